//! Rich messages: the inputs for kinds, attachments and metadata, streaming
//! (`appendToMessage`, `finishMessage`) and importing history
//! (`importMessages`). The rules live in `service::messages`,
//! `service::messages` and `service::messages`.

use crate::graphql::scalars::{JsonValue, Timestamp};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use service::{
    accounts::host_app_only,
    messages::ImportMessage,
    messages::{Attachment, RichContent},
};

use crate::graphql::{
    context::{actor, service},
    error::{ApiError, ApiResult},
    ids::{self, Kind},
    messages::{Message, MessageKind},
};

/// A file a message points at; Parley stores the reference, not the file.
#[derive(InputObject)]
pub struct AttachmentInput {
    #[doc = concat!("An `http` or `https` URL of at most ", ::service::limit!(URL_MAX), " characters.")]
    pub url: String,
    #[doc = concat!("A file name of up to ", ::service::limit!(ATTACHMENT_NAME_MAX), " characters.")]
    pub name: Option<String>,
    /// `type/subtype`, such as `image/png`.
    pub mime_type: Option<String>,
    /// In bytes; not negative.
    pub size: Option<i64>,
    /// In pixels; positive.
    pub width: Option<i32>,
    pub height: Option<i32>,
}

impl From<AttachmentInput> for Attachment {
    fn from(a: AttachmentInput) -> Self {
        Attachment {
            url: a.url,
            name: a.name,
            mime_type: a.mime_type,
            size: a.size,
            width: a.width.map(i64::from),
            height: a.height.map(i64::from),
        }
    }
}

/// What a message is besides its body; part of `SendMessageInput` and
/// `SendMessageAsInput`.
#[derive(InputObject, Default)]
pub struct RichMessageInput {
    /// `TEXT` (the default), `IMAGE`, `FILE` or `OFFER`; `SYSTEM` is
    /// Parley's own. `IMAGE` and `FILE` need an attachment and may have an
    /// empty body; an `OFFER` needs a body or metadata (its terms).
    pub kind: Option<MessageKind>,
    #[doc = concat!("Up to ", ::service::limit!(ATTACHMENTS_MAX), ".")]
    pub attachments: Option<Vec<AttachmentInput>>,
    #[doc = concat!("A JSON object of at most ", ::service::limit!(METADATA_MAX_KIB), " KiB: an offer's amount and currency, an")]
    /// AI model's name and token counts.
    pub metadata: Option<JsonValue>,
    /// Starts a message that its author fills with `appendToMessage` and
    /// ends with `finishMessage`; its body may start empty.
    pub streaming: Option<bool>,
}

impl From<RichMessageInput> for RichContent {
    fn from(input: RichMessageInput) -> Self {
        RichContent {
            kind: input.kind.map(Into::into),
            attachments: attachments(input.attachments),
            metadata: input.metadata.map(|JsonValue(value)| value),
            streaming: input.streaming.unwrap_or(false),
        }
    }
}

fn attachments(input: Option<Vec<AttachmentInput>>) -> Vec<Attachment> {
    input
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect()
}

/// One message of another network's history.
#[derive(InputObject)]
pub struct ImportMessageInput {
    #[doc = concat!("Its id on the other network: 1 to ", ::service::limit!(EXTERNAL_ID_MAX), " characters, unique within the")]
    /// conversation. A message whose id is already there is skipped.
    pub external_id: String,
    /// Who sent it: a member of the conversation.
    pub sender_id: ID,
    /// As in `sendMessage`.
    #[graphql(default)]
    pub body: String,
    pub kind: Option<MessageKind>,
    pub attachments: Option<Vec<AttachmentInput>>,
    pub metadata: Option<JsonValue>,
    /// When it was sent there; kept as is. Not in the future.
    pub created_at: Timestamp,
}

/// What `appendToMessage` did.
#[derive(SimpleObject)]
pub struct AppendPayload {
    pub message_id: ID,
    /// Characters of the whole text so far.
    pub length: i32,
}

/// What `importMessages` did.
#[derive(SimpleObject)]
pub struct ImportPayload {
    pub imported: i32,
    /// Messages already there (by external id), or repeated in the batch.
    pub skipped: i32,
}

#[derive(Default)]
pub struct RichMessageMutation;

#[Object]
impl RichMessageMutation {
    /// Adds text, as is, to a streaming message: its author's own, or (with
    /// the admin key) a bot's. Subscribers see it at once; the database has
    #[doc = concat!("it within 250 ms. The whole text is at most ", ::service::limit!(BODY_MAX), " characters. A")]
    /// finished message is `CONFLICT` on `id`; someone else's is
    /// `FORBIDDEN`.
    async fn append_to_message(
        &self,
        ctx: &Context<'_>,
        id: ID,
        text: String,
    ) -> ApiResult<AppendPayload> {
        let actor = actor(ctx)?;
        let message_id = ids::decode(Kind::Message, &id, "id")?;
        let appended = service(ctx)?
            .append_to_message(&actor, message_id, &text)
            .await?;
        Ok(AppendPayload {
            message_id: id,
            length: i32::try_from(appended.length).unwrap_or(i32::MAX),
        })
    }

    /// Ends a streaming message: stores its whole text and sets
    /// `streaming` to false. Who may: as for `appendToMessage`. Finishing
    /// it again is `CONFLICT` on `id`.
    async fn finish_message(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Message> {
        let actor = actor(ctx)?;
        let message_id = ids::decode(Kind::Message, &id, "id")?;
        let message = service(ctx)?.finish_message(&actor, message_id).await?;
        Ok(Message(message, None))
    }

    #[doc = concat!("Admin key only: appends up to ", ::service::limit!(IMPORT_MAX), " messages of another network's")]
    /// history, in the order given, after the conversation's last message.
    /// Messages whose `externalId` is already there (or repeated in the
    /// batch) are skipped, so importing twice changes nothing. Imported
    /// messages keep their `createdAt` and never count as unread. Bad input
    /// is `BAD_USER_INPUT` on `messages` and imports nothing.
    async fn import_messages(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        messages: Vec<ImportMessageInput>,
    ) -> ApiResult<ImportPayload> {
        let actor = actor(ctx)?;
        // People get FORBIDDEN whatever they send (the service checks
        // again); ids are decoded only for the host app.
        host_app_only(&actor)?;
        let conversation_id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let messages = messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                // Named like the service's errors about one message.
                let sender_id =
                    ids::decode(Kind::User, &m.sender_id, "messages").map_err(|_| {
                        ApiError::bad_input(
                            "messages",
                            format!("[{i}].senderId: is not a valid User id"),
                        )
                    })?;
                Ok(ImportMessage {
                    sender_id,
                    external_id: m.external_id,
                    body: m.body,
                    rich: RichContent {
                        kind: m.kind.map(Into::into),
                        attachments: attachments(m.attachments),
                        metadata: m.metadata.map(|JsonValue(value)| value),
                        streaming: false,
                    },
                    created_at: m.created_at.0,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let outcome = service(ctx)?
            .import_messages(&actor, conversation_id, messages)
            .await?;
        Ok(ImportPayload {
            imported: i32::try_from(outcome.imported).unwrap_or(i32::MAX),
            skipped: i32::try_from(outcome.skipped).unwrap_or(i32::MAX),
        })
    }
}
