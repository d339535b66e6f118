// A graphql-codegen plugin: the schema's object types without an `id`
// field (connections, edges, payloads, events, PageInfo, ...). urql's
// graphcache needs a `keys` entry returning null for each, or it warns
// and cannot store them; Apollo embeds them by itself.
const { isObjectType } = require("graphql");

module.exports = {
  plugin(schema) {
    const roots = new Set(
      [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean).map((t) => t.name),
    );
    const names = Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && !t.name.startsWith("__") && !roots.has(t.name) && !("id" in t.getFields()))
      .map((t) => t.name)
      .sort();
    return `/** Object types without an \`id\`: embedded in their parent in a normalised cache. */\nexport const keylessTypes = ${JSON.stringify(names, null, 2)} as const;\n`;
  },
};
