"use strict";(()=>{var K="NETWORK_ERROR",Z="HTTP_ERROR",Ze=new Set(["BAD_USER_INPUT","FORBIDDEN","NOT_FOUND","CONFLICT","BAD_REQUEST","GRAPHQL_PARSE_FAILED","GRAPHQL_VALIDATION_FAILED"]),E=class t extends Error{code;field;retryAfter;status;errors;data;constructor(e,n){super(e,n.cause===void 0?void 0:{cause:n.cause}),this.name="ParleyError",this.code=n.code,n.field!==void 0&&(this.field=n.field),n.retryAfter!==void 0&&(this.retryAfter=n.retryAfter),n.status!==void 0&&(this.status=n.status),this.errors=n.errors??[],n.data!==void 0&&(this.data=n.data)}get permanent(){return Ze.has(this.code)?!0:this.code===Z&&this.status!==void 0&&this.status>=400&&this.status<500&&this.status!==408&&this.status!==429}static fromGraphQLErrors(e,n={}){let s=e[0]??{message:"unknown error"},r=s.extensions??{},i=typeof r.code=="string"?r.code:"INTERNAL",o=typeof r.field=="string"?r.field:void 0,a=typeof r.retryAfterSeconds=="number"?r.retryAfterSeconds:typeof r.retryAfter=="number"?r.retryAfter:n.retryAfterHeader;return new t(s.message,{code:i,...o!==void 0?{field:o}:{},...a!==void 0?{retryAfter:a}:{},...n.status!==void 0?{status:n.status}:{},errors:[...e],data:n.data})}static fromSocketError(e){if(e instanceof t)return e;if(Array.isArray(e))return t.fromGraphQLErrors(e);if(et(e))return new t(`socket closed: ${e.code} ${e.reason??""}`.trim(),{code:K,cause:e});let n=e instanceof Error?e.message:String(e);return new t(n,{code:K,cause:e})}};function et(t){return typeof t=="object"&&t!==null&&"code"in t&&typeof t.code=="number"}var tt=t=>new Promise(e=>setTimeout(e,t));function we(t){async function e(n,s,r){let i={"content-type":"application/json",accept:"application/graphql-response+json, application/json"};r&&(i.authorization=`Bearer ${r}`);let o;try{o=await t.fetch(t.url,{method:"POST",headers:i,body:JSON.stringify({query:n,variables:s??{}})})}catch(l){throw new E(`network error: ${l instanceof Error?l.message:String(l)}`,{code:K,cause:l})}let a;try{a=await o.json()}catch(l){if(a=void 0,o.ok)throw new E("the server's answer is not JSON",{code:K,status:o.status,cause:l})}if(a?.errors?.length){let l=Number(o.headers.get("retry-after"));throw E.fromGraphQLErrors(a.errors,{status:o.status,data:a.data,...Number.isFinite(l)&&l>0?{retryAfterHeader:l}:{}})}if(!o.ok||!a||a.data==null)throw new E(`HTTP ${o.status}`,{code:Z,status:o.status});return a.data}return async function(s,r){let i=s.toString(),o=0,a=!1;for(;;){let l=await t.token();try{return await e(i,r,l)}catch(d){if(!(d instanceof E))throw d;if(d.code==="RATE_LIMITED"&&o<t.rateLimitRetries&&(d.retryAfter??1)<=t.maxRetryAfter){o+=1,await tt((d.retryAfter??1)*1e3);continue}if(d.code==="UNAUTHENTICATED"&&t.refreshable&&!a){a=!0;let c=await t.token();if(c&&c!==l)continue}throw d}}}}function x(t){return t===null?"null":Array.isArray(t)?"array":typeof t}function U(t){return x(t)==="object"}function nt(t){return Array.isArray(t)&&t.length>0&&t.every(e=>"message"in e)}function de(t,e){return t.length<124?t:e}var Ie="graphql-transport-ws";var k=(t=>(t[t.InternalServerError=4500]="InternalServerError",t[t.InternalClientError=4005]="InternalClientError",t[t.BadRequest=4400]="BadRequest",t[t.BadResponse=4004]="BadResponse",t[t.Unauthorized=4401]="Unauthorized",t[t.Forbidden=4403]="Forbidden",t[t.SubprotocolNotAcceptable=4406]="SubprotocolNotAcceptable",t[t.ConnectionInitialisationTimeout=4408]="ConnectionInitialisationTimeout",t[t.ConnectionAcknowledgementTimeout=4504]="ConnectionAcknowledgementTimeout",t[t.SubscriberAlreadyExists=4409]="SubscriberAlreadyExists",t[t.TooManyInitialisationRequests=4429]="TooManyInitialisationRequests",t))(k||{}),_=(t=>(t.ConnectionInit="connection_init",t.ConnectionAck="connection_ack",t.Ping="ping",t.Pong="pong",t.Subscribe="subscribe",t.Next="next",t.Error="error",t.Complete="complete",t))(_||{});function Re(t){if(!U(t))throw new Error(`Message is expected to be an object, but got ${x(t)}`);if(!t.type)throw new Error("Message is missing the 'type' property");if(typeof t.type!="string")throw new Error(`Message is expects the 'type' property to be a string, but got ${x(t.type)}`);switch(t.type){case"connection_init":case"connection_ack":case"ping":case"pong":{if(t.payload!=null&&!U(t.payload))throw new Error(`"${t.type}" message expects the 'payload' property to be an object or nullish or missing, but got "${t.payload}"`);break}case"subscribe":{if(typeof t.id!="string")throw new Error(`"${t.type}" message expects the 'id' property to be a string, but got ${x(t.id)}`);if(!t.id)throw new Error(`"${t.type}" message requires a non-empty 'id' property`);if(!U(t.payload))throw new Error(`"${t.type}" message expects the 'payload' property to be an object, but got ${x(t.payload)}`);if(typeof t.payload.query!="string")throw new Error(`"${t.type}" message payload expects the 'query' property to be a string, but got ${x(t.payload.query)}`);if(t.payload.variables!=null&&!U(t.payload.variables))throw new Error(`"${t.type}" message payload expects the 'variables' property to be a an object or nullish or missing, but got ${x(t.payload.variables)}`);if(t.payload.operationName!=null&&x(t.payload.operationName)!=="string")throw new Error(`"${t.type}" message payload expects the 'operationName' property to be a string or nullish or missing, but got ${x(t.payload.operationName)}`);if(t.payload.extensions!=null&&!U(t.payload.extensions))throw new Error(`"${t.type}" message payload expects the 'extensions' property to be a an object or nullish or missing, but got ${x(t.payload.extensions)}`);break}case"next":{if(typeof t.id!="string")throw new Error(`"${t.type}" message expects the 'id' property to be a string, but got ${x(t.id)}`);if(!t.id)throw new Error(`"${t.type}" message requires a non-empty 'id' property`);if(!U(t.payload))throw new Error(`"${t.type}" message expects the 'payload' property to be an object, but got ${x(t.payload)}`);break}case"error":{if(typeof t.id!="string")throw new Error(`"${t.type}" message expects the 'id' property to be a string, but got ${x(t.id)}`);if(!t.id)throw new Error(`"${t.type}" message requires a non-empty 'id' property`);if(!nt(t.payload))throw new Error(`"${t.type}" message expects the 'payload' property to be an array of GraphQL errors, but got ${JSON.stringify(t.payload)}`);break}case"complete":{if(typeof t.id!="string")throw new Error(`"${t.type}" message expects the 'id' property to be a string, but got ${x(t.id)}`);if(!t.id)throw new Error(`"${t.type}" message requires a non-empty 'id' property`);break}default:throw new Error(`Invalid message 'type' property "${t.type}"`)}return t}function Te(t,e){return Re(typeof t=="string"?JSON.parse(t,e):t)}function G(t,e){return Re(t),JSON.stringify(t,e)}function Ae(t){let{url:e,connectionParams:n,lazy:s=!0,onNonLazyError:r=console.error,lazyCloseTimeout:i=0,keepAlive:o=0,disablePong:a,connectionAckWaitTimeout:l=0,retryAttempts:d=5,retryWait:c=async function(b){let g=Math.pow(2,b);await new Promise(v=>setTimeout(v,g*1e3+Math.floor(Math.random()*2700+300)))},shouldRetry:S=ue,on:M,webSocketImpl:$,generateID:z=function(){return"xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g,b=>{let g=Math.random()*16|0;return(b=="x"?g:g&3|8).toString(16)})},jsonMessageReplacer:y,jsonMessageReviver:q}=t,D;if($){if(!rt($))throw new Error("Invalid WebSocket implementation provided");D=$}else typeof WebSocket<"u"?D=WebSocket:typeof global<"u"?D=global.WebSocket||global.MozWebSocket:typeof window<"u"&&(D=window.WebSocket||window.MozWebSocket);if(!D)throw new Error("WebSocket implementation missing; on Node you can `import WebSocket from 'ws';` and pass `webSocketImpl: WebSocket` to `createClient`");let N=D,R=(()=>{let m=(()=>{let g={};return{on(v,w){return g[v]=w,()=>{delete g[v]}},emit(v){"id"in v&&g[v.id]?.(v)}}})(),b={connecting:M?.connecting?[M.connecting]:[],opened:M?.opened?[M.opened]:[],connected:M?.connected?[M.connected]:[],ping:M?.ping?[M.ping]:[],pong:M?.pong?[M.pong]:[],message:M?.message?[m.emit,M.message]:[m.emit],closed:M?.closed?[M.closed]:[],error:M?.error?[M.error]:[]};return{onMessage:m.on,on(g,v){let w=b[g];return w.push(v),()=>{let I=w.indexOf(v);I>-1&&w.splice(I,1)}},emit(g,...v){for(let w of[...b[g]])w(...v)}}})();function B(m){let b=[R.on("error",g=>{b.forEach(v=>v()),m(g)}),R.on("closed",g=>{b.forEach(v=>v()),m(g)})];return()=>b.forEach(g=>g())}let L,P=0,le,Q=!1,Y=0,be=!1;async function fe(){clearTimeout(le);let[m,b]=await(L??(L=new Promise((w,I)=>(async()=>{if(Q){if(await c(Y),!P)return L=void 0,I({code:1e3,reason:"All Subscriptions Gone"});Y++}R.emit("connecting",Q);let p=new N(typeof e=="function"?await e():e,Ie),F,j;function X(){isFinite(o)&&o>0&&(clearTimeout(j),j=setTimeout(()=>{p.readyState===N.OPEN&&(p.send(G({type:_.Ping})),R.emit("ping",!1,void 0))},o))}B(C=>{L=void 0,clearTimeout(F),clearTimeout(j),I(C),C instanceof ee&&(p.close(4499,"Terminated"),p.onerror=null,p.onclose=null)}),p.onerror=C=>R.emit("error",C),p.onclose=C=>R.emit("closed",C),p.onopen=async()=>{try{R.emit("opened",p);let C=typeof n=="function"?await n():n;if(p.readyState!==N.OPEN)return;p.send(G(C?{type:_.ConnectionInit,payload:C}:{type:_.ConnectionInit},y)),isFinite(l)&&l>0&&(F=setTimeout(()=>{p.close(k.ConnectionAcknowledgementTimeout,"Connection acknowledgement timeout")},l)),X()}catch(C){R.emit("error",C),p.close(k.InternalClientError,de(C instanceof Error?C.message:String(C),"Internal client error"))}};let V=!1;p.onmessage=({data:C})=>{try{let A=Te(C,q);if(R.emit("message",A),A.type==="ping"||A.type==="pong"){R.emit(A.type,!0,A.payload),A.type==="pong"?X():a||(p.send(G(A.payload?{type:_.Pong,payload:A.payload}:{type:_.Pong},y)),R.emit("pong",!1,A.payload));return}if(V)return;if(A.type!==_.ConnectionAck)throw new Error(`First message cannot be of type ${A.type}`);clearTimeout(F),V=!0,R.emit("connected",p,A.payload,Q),Q=!1,Y=0;let Se=new Promise((ft,Xe)=>B(Xe));Se.catch(()=>{}),w([p,Se])}catch(A){p.onmessage=null,R.emit("error",A),p.close(k.BadResponse,de(A instanceof Error?A.message:String(A),"Bad response"))}}})())));m.readyState===N.CLOSING&&await b;let g=()=>{},v=new Promise(w=>g=w);return[m,g,new Promise((w,I)=>{let p=B(I);m.readyState!==N.OPEN&&b.catch(I),v.then(()=>{if(p(),!P){let F=()=>m.close(1e3,"Normal Closure");isFinite(i)&&i>0?(clearTimeout(le),le=setTimeout(()=>{!P&&m.readyState===N.OPEN&&F()},i)):F()}w()})})]}function Me(m){if(ue(m)&&(st(m.code)||[k.InternalServerError,k.InternalClientError,k.BadRequest,k.BadResponse,k.Unauthorized,k.SubprotocolNotAcceptable,k.SubscriberAlreadyExists,k.TooManyInitialisationRequests].includes(m.code)))throw m;if(be)return!1;if(ue(m)&&m.code===1e3)return P>0;if(!d||Y>=d||!S(m))throw m;return Q=!0}s||(async()=>{for(P++;;)try{let[,,m]=await fe();await m}catch(m){try{if(!Me(m))return}catch(b){return r?.(b)}}})();function Ee(m,b){let g=z(m),v=!1,w=!1,I=()=>{P--,v=!0};return(async()=>{for(P++;;)try{let[p,F,j]=await fe();if(v)return j.catch(()=>{}),F();let X=R.onMessage(g,V=>{switch(V.type){case _.Next:{b.next(V.payload);return}case _.Error:{w=!0,v=!0,b.error(V.payload),I();return}case _.Complete:{v=!0,I();return}}});p.send(G({id:g,type:_.Subscribe,payload:m},y)),I=()=>{!v&&p.readyState===N.OPEN&&p.send(G({id:g,type:_.Complete},y)),P--,v=!0,F()},await j.finally(X);return}catch(p){if(!Me(p))return}})().then(()=>{w||b.complete()}).catch(p=>{b.error(p)}),()=>{v||I()}}return{on:R.on,subscribe:Ee,iterate(m){let b=[],g={done:!1,error:null,resolve:()=>{}},v=Ee(m,{next(I){b.push(I),g.resolve()},error(I){g.done=!0,g.error=I,g.resolve()},complete(){g.done=!0,g.resolve()}}),w=(async function*(){for(;;){for(b.length||await new Promise(p=>g.resolve=p);b.length;)yield b.shift();if(g.error)throw g.error;if(g.done)return}})();return w.throw=async I=>(g.done||(g.done=!0,g.error=I,g.resolve()),{done:!0,value:void 0}),w.return=async()=>(v(),{done:!0,value:void 0}),w},async dispose(){if(be=!0,L){let[m]=await L;m.close(1e3,"Normal Closure")}},terminate(){L&&R.emit("closed",new ee)}}}var ee=class extends Error{name="TerminatedCloseEvent";message="4499: Terminated";code=4499;reason="Terminated";wasClean=!1};function ue(t){return U(t)&&"code"in t&&"reason"in t}function st(t){return[1e3,1001,1006,1005,1012,1013,1014].includes(t)?!1:t>=1e3&&t<=1999}function rt(t){return typeof t=="function"&&"constructor"in t&&"CLOSED"in t&&"CLOSING"in t&&"CONNECTING"in t&&"OPEN"in t}var te=class{client;#t="connecting";#s=new Set;#n=new Set;#r=!0;#e=!1;#i=null;#a=new Set;#o=new Set;#l;constructor(e){this.client=Ae({url:e.url,...e.webSocketImpl?{webSocketImpl:e.webSocketImpl}:{},lazy:!0,lazyCloseTimeout:3e3,keepAlive:15e3,retryAttempts:1/0,shouldRetry:()=>!0,connectionParams:async()=>{let n=await e.token();return n?{authorization:`Bearer ${n}`}:{}},retryWait:async n=>{let s=Math.min(e.maxRetryDelay,300*2**Math.min(n,8));for(await this.#u(s/2+Math.random()*(s/2));!this.#r;)await new Promise(r=>this.#o.add(r))},on:{connecting:()=>{this.#r&&this.#g(this.#e?"reconnecting":"connecting")},connected:n=>{this.#i=n,this.#e=!0,this.#r||(this.#r=!0),this.#g("live");for(let s of this.#n)s()},ping:n=>{n||(clearTimeout(this.#l),this.#l=setTimeout(()=>this.client.terminate(),1e4))},pong:n=>{n&&clearTimeout(this.#l)},closed:()=>{clearTimeout(this.#l),this.#i=null,this.#r&&this.#t==="live"&&this.#g(this.#e?"reconnecting":"connecting")}}})}get state(){return this.#t}onState(e){return this.#s.add(e),()=>this.#s.delete(e)}onConnected(e){return this.#n.add(e),()=>this.#n.delete(e)}get networkOnline(){return this.#r}setNetworkOnline(e){if(e!==this.#r){if(this.#r=e,!e){this.#g("offline"),this.client.terminate();return}this.#g(this.#e?"reconnecting":"connecting");for(let n of this.#o)n();this.#o.clear(),this.#d()}}reconnect(){this.#i&&this.client.terminate(),this.#d()}async whenOnline(){for(;!this.#r;)await new Promise(e=>this.#o.add(e))}async dispose(){for(let e of this.#o)e();this.#d(),await this.client.dispose()}#d(){for(let e of this.#a)e();this.#a.clear()}#u(e){return new Promise(n=>{let s=()=>{clearTimeout(r),this.#a.delete(s),n()},r=setTimeout(s,e);this.#a.add(s)})}#g(e){if(e!==this.#t){this.#t=e;for(let n of this.#s)n(e)}}};var H=class{constructor(e,n,s,r,i){this.client=e;this.accept=r;this.prepare=i;this.payload={query:n,variables:s}}client;accept;prepare;#t=new Set;#s=null;#n=!1;#r=!1;#e;#i=0;#a=0;#o=!1;payload;subscribe(e){let n=typeof e=="function"?{next:e}:e;return this.#r?(queueMicrotask(()=>n.complete?.()),{unsubscribe(){}}):(this.#t.add(n),this.#l(),{unsubscribe:()=>{this.#t.delete(n),this.#t.size===0&&this.#d()}})}[Symbol.asyncIterator](){let e=[],n=null,s=!1,r=null,i=()=>{r?.(),r=null},o=this.subscribe({next:a=>{e.push(a),i()},error:a=>{n=a,i()},complete:()=>{s=!0,i()}});return{next:async()=>{for(;;){if(e.length)return{value:e.shift(),done:!1};if(n)throw n;if(s)return{value:void 0,done:!0};await new Promise(a=>r=a)}},return:async()=>(o.unsubscribe(),s=!0,i(),{value:void 0,done:!0})}}close(){this.#u(null)}#l(){if(this.#s||this.#n||this.#r)return;this.#n=!0;let e=()=>{if(this.#n=!1,this.#r||this.#t.size===0||this.#s)return;let n=++this.#a,s=()=>n===this.#a&&this.#s!==null;this.#s=this.client.subscribe(this.payload,{next:r=>{if(s()){if(this.#i=0,r.errors?.length){this.#u(E.fromGraphQLErrors(r.errors));return}if(r.data)for(let i of this.accept(r.data,this.payload.variables))for(let o of[...this.#t])o.next?.(i)}},error:r=>{if(!s())return;if(this.#s=null,Array.isArray(r)){this.#u(E.fromSocketError(r));return}this.#i+=1;let i=Math.min(3e4,1e3*2**Math.min(this.#i,5));this.#e=setTimeout(()=>this.#l(),i)},complete:()=>{s()&&(this.#s=null,this.#u(null))}})};this.prepare&&!this.#o?(this.#o=!0,this.prepare(this.payload.variables).then(e,e)):e()}#d(){clearTimeout(this.#e),this.#a+=1;let e=this.#s;this.#s=null,e?.()}#u(e){if(this.#r)return;this.#r=!0,this.#d();let n=[...this.#t];this.#t.clear();for(let s of n)e?s.error?.(e):s.complete?.()}};function Ce(t,e,n){let s=/\$after\b/.test(e.query),r=/\$afterSeq\b/.test(e.query),i=new Set,a=new H(t,e.query,{...e.variables??{}},(l,d)=>{for(let c of Object.values(l)){if(!c||typeof c!="object")continue;let S=c;if(r&&typeof S.seq=="number"){let M=d.afterSeq;if(typeof M=="number"&&S.seq<=M)return[];d.afterSeq=S.seq}if(s&&typeof S.cursor=="string"){if(!(S.__typename==="StreamLiveEvent"||S.__typename==="CursorExpiredEvent")){if(i.has(S.cursor))return[];i.add(S.cursor),i.size>1e3&&i.delete(i.values().next().value)}d.after=S.cursor}}return[{data:l}]}).subscribe({next:l=>n.next(l),error:l=>l.errors.length?(n.next({errors:l.errors}),n.complete()):n.error(l),complete:()=>n.complete()});return()=>a.unsubscribe()}var h=class extends String{__apiType;value;__meta__;constructor(e,n){super(e),this.value=e,this.__meta__=n}toString(){return this.value}},kt=new h(`
    fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}
    `,{fragmentName:"MessageFields"}),_t=new h(`
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}
    `,{fragmentName:"UserFields"}),qt=new h(`
    fragment ConversationFields on Conversation {
  id
  kind
  title
  context
  avatarUrl
  archived
  muted
  lastSeq
  lastActivityAt
  unreadCount
  lastReadSeq
  memberCount
  lastMessage {
    ...MessageFields
  }
  members(first: 20) {
    nodes {
      role
      lastReadSeq
      lastDeliveredSeq
      user {
        ...UserFields
      }
    }
  }
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}
fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`,{fragmentName:"ConversationFields"}),Nt=new h(`
    fragment EventFields on Event {
  __typename
  cursor
  conversationId
  ... on MessageAddedEvent {
    at
    message {
      ...MessageFields
    }
  }
  ... on MessageEditedEvent {
    at
    message {
      ...MessageFields
    }
    editor {
      id
    }
  }
  ... on MessageDeletedEvent {
    at
    message {
      ...MessageFields
    }
    messageId
  }
  ... on MessageFinishedEvent {
    at
    message {
      ...MessageFields
    }
  }
  ... on MessageAppendedEvent {
    messageId
    text
  }
  ... on ReactionChangedEvent {
    at
    message {
      id
      reactions {
        emoji
        count
        reactedByMe
      }
    }
    user {
      id
      displayName
    }
    emoji
    added
  }
  ... on ReadReceiptEvent {
    at
    user {
      id
      displayName
    }
    lastReadSeq
  }
  ... on DeliveryReceiptEvent {
    at
    user {
      id
      displayName
    }
    lastDeliveredSeq
  }
  ... on ConversationUpdatedEvent {
    at
    conversation {
      id
      title
      kind
      archived
      muted
      deletedAt
    }
    fields
    actor {
      id
    }
  }
  ... on MemberJoinedEvent {
    at
    user {
      id
      displayName
    }
    actor {
      id
    }
  }
  ... on MemberLeftEvent {
    at
    user {
      id
      displayName
    }
    newOwner {
      id
    }
  }
  ... on MemberRemovedEvent {
    at
    user {
      id
      displayName
    }
    actor {
      id
    }
  }
  ... on MemberRoleChangedEvent {
    at
    user {
      id
    }
    role
  }
  ... on UnreadCountsChangedEvent {
    unreadCount
    totalUnreadCount
  }
  ... on TypingEvent {
    user {
      id
      displayName
    }
    typing
  }
  ... on PresenceEvent {
    user {
      id
    }
    online
  }
}
    fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`,{fragmentName:"EventFields"}),xe=new h(`
    mutation Register($input: RegisterInput!) {
  register(input: $input) {
    token
    user {
      ...UserFields
    }
  }
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}`),ke=new h(`
    mutation Login($input: LoginInput!) {
  login(input: $input) {
    token
    user {
      ...UserFields
    }
  }
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}`),_e=new h(`
    mutation Logout {
  logout
}
    `),qe=new h(`
    query Me {
  me {
    ...UserFields
  }
  unreadCount
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}`),ge=new h(`
    query Users($search: String, $first: Int, $after: String) {
  users(search: $search, first: $first, after: $after) {
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      ...UserFields
    }
  }
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}`),Ne=new h(`
    query Conversations($filter: ConversationFilter, $first: Int, $after: String) {
  unreadCount
  conversations(filter: $filter, first: $first, after: $after) {
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      ...ConversationFields
    }
  }
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}
fragment ConversationFields on Conversation {
  id
  kind
  title
  context
  avatarUrl
  archived
  muted
  lastSeq
  lastActivityAt
  unreadCount
  lastReadSeq
  memberCount
  lastMessage {
    ...MessageFields
  }
  members(first: 20) {
    nodes {
      role
      lastReadSeq
      lastDeliveredSeq
      user {
        ...UserFields
      }
    }
  }
}
fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`),Fe=new h(`
    query Conversation($id: ID!) {
  conversation(id: $id) {
    ...ConversationFields
  }
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}
fragment ConversationFields on Conversation {
  id
  kind
  title
  context
  avatarUrl
  archived
  muted
  lastSeq
  lastActivityAt
  unreadCount
  lastReadSeq
  memberCount
  lastMessage {
    ...MessageFields
  }
  members(first: 20) {
    nodes {
      role
      lastReadSeq
      lastDeliveredSeq
      user {
        ...UserFields
      }
    }
  }
}
fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`),De=new h(`
    mutation OpenDirectConversation($userId: ID!, $context: String) {
  openDirectConversation(userId: $userId, context: $context) {
    ...ConversationFields
  }
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}
fragment ConversationFields on Conversation {
  id
  kind
  title
  context
  avatarUrl
  archived
  muted
  lastSeq
  lastActivityAt
  unreadCount
  lastReadSeq
  memberCount
  lastMessage {
    ...MessageFields
  }
  members(first: 20) {
    nodes {
      role
      lastReadSeq
      lastDeliveredSeq
      user {
        ...UserFields
      }
    }
  }
}
fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`),Pe=new h(`
    mutation CreateGroupConversation($input: CreateGroupConversationInput!) {
  createGroupConversation(input: $input) {
    ...ConversationFields
  }
}
    fragment UserFields on User {
  id
  username
  displayName
  avatarUrl
  isBot
  online
  lastSeenAt
}
fragment ConversationFields on Conversation {
  id
  kind
  title
  context
  avatarUrl
  archived
  muted
  lastSeq
  lastActivityAt
  unreadCount
  lastReadSeq
  memberCount
  lastMessage {
    ...MessageFields
  }
  members(first: 20) {
    nodes {
      role
      lastReadSeq
      lastDeliveredSeq
      user {
        ...UserFields
      }
    }
  }
}
fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`),Ue=new h(`
    mutation MarkRead($input: MarkReadInput!) {
  markRead(input: $input) {
    id
    unreadCount
    lastReadSeq
  }
}
    `),Ft=new h(`
    mutation MarkDelivered($conversationId: ID!, $upToSeq: Int!) {
  markDelivered(conversationId: $conversationId, upToSeq: $upToSeq) {
    id
  }
}
    `),ce=new h(`
    mutation SetTyping($conversationId: ID!, $typing: Boolean!) {
  setTyping(conversationId: $conversationId, typing: $typing)
}
    `),Le=new h(`
    mutation AddReaction($messageId: ID!, $emoji: String!) {
  addReaction(messageId: $messageId, emoji: $emoji) {
    id
    reactions {
      emoji
      count
      reactedByMe
    }
  }
}
    `),Oe=new h(`
    mutation RemoveReaction($messageId: ID!, $emoji: String!) {
  removeReaction(messageId: $messageId, emoji: $emoji) {
    id
    reactions {
      emoji
      count
      reactedByMe
    }
  }
}
    `),$e=new h(`
    subscription Events($after: String) {
  events(after: $after) {
    ...EventFields
  }
}
    fragment EventFields on Event {
  __typename
  cursor
  conversationId
  ... on MessageAddedEvent {
    at
    message {
      ...MessageFields
    }
  }
  ... on MessageEditedEvent {
    at
    message {
      ...MessageFields
    }
    editor {
      id
    }
  }
  ... on MessageDeletedEvent {
    at
    message {
      ...MessageFields
    }
    messageId
  }
  ... on MessageFinishedEvent {
    at
    message {
      ...MessageFields
    }
  }
  ... on MessageAppendedEvent {
    messageId
    text
  }
  ... on ReactionChangedEvent {
    at
    message {
      id
      reactions {
        emoji
        count
        reactedByMe
      }
    }
    user {
      id
      displayName
    }
    emoji
    added
  }
  ... on ReadReceiptEvent {
    at
    user {
      id
      displayName
    }
    lastReadSeq
  }
  ... on DeliveryReceiptEvent {
    at
    user {
      id
      displayName
    }
    lastDeliveredSeq
  }
  ... on ConversationUpdatedEvent {
    at
    conversation {
      id
      title
      kind
      archived
      muted
      deletedAt
    }
    fields
    actor {
      id
    }
  }
  ... on MemberJoinedEvent {
    at
    user {
      id
      displayName
    }
    actor {
      id
    }
  }
  ... on MemberLeftEvent {
    at
    user {
      id
      displayName
    }
    newOwner {
      id
    }
  }
  ... on MemberRemovedEvent {
    at
    user {
      id
      displayName
    }
    actor {
      id
    }
  }
  ... on MemberRoleChangedEvent {
    at
    user {
      id
    }
    role
  }
  ... on UnreadCountsChangedEvent {
    unreadCount
    totalUnreadCount
  }
  ... on TypingEvent {
    user {
      id
      displayName
    }
    typing
  }
  ... on PresenceEvent {
    user {
      id
    }
    online
  }
}
fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`),Be=new h(`
    subscription ConversationEvents($conversationId: ID!, $after: String) {
  conversationEvents(conversationId: $conversationId, after: $after) {
    ...EventFields
  }
}
    fragment EventFields on Event {
  __typename
  cursor
  conversationId
  ... on MessageAddedEvent {
    at
    message {
      ...MessageFields
    }
  }
  ... on MessageEditedEvent {
    at
    message {
      ...MessageFields
    }
    editor {
      id
    }
  }
  ... on MessageDeletedEvent {
    at
    message {
      ...MessageFields
    }
    messageId
  }
  ... on MessageFinishedEvent {
    at
    message {
      ...MessageFields
    }
  }
  ... on MessageAppendedEvent {
    messageId
    text
  }
  ... on ReactionChangedEvent {
    at
    message {
      id
      reactions {
        emoji
        count
        reactedByMe
      }
    }
    user {
      id
      displayName
    }
    emoji
    added
  }
  ... on ReadReceiptEvent {
    at
    user {
      id
      displayName
    }
    lastReadSeq
  }
  ... on DeliveryReceiptEvent {
    at
    user {
      id
      displayName
    }
    lastDeliveredSeq
  }
  ... on ConversationUpdatedEvent {
    at
    conversation {
      id
      title
      kind
      archived
      muted
      deletedAt
    }
    fields
    actor {
      id
    }
  }
  ... on MemberJoinedEvent {
    at
    user {
      id
      displayName
    }
    actor {
      id
    }
  }
  ... on MemberLeftEvent {
    at
    user {
      id
      displayName
    }
    newOwner {
      id
    }
  }
  ... on MemberRemovedEvent {
    at
    user {
      id
      displayName
    }
    actor {
      id
    }
  }
  ... on MemberRoleChangedEvent {
    at
    user {
      id
    }
    role
  }
  ... on UnreadCountsChangedEvent {
    unreadCount
    totalUnreadCount
  }
  ... on TypingEvent {
    user {
      id
      displayName
    }
    typing
  }
  ... on PresenceEvent {
    user {
      id
    }
    online
  }
}
fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`),je=new h(`
    subscription MessageAdded($conversationId: ID!, $afterSeq: Int) {
  messageAdded(conversationId: $conversationId, afterSeq: $afterSeq) {
    ...MessageFields
  }
}
    fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`),Ve=new h(`
    mutation SendMessage($input: SendMessageInput!) {
  sendMessage(input: $input) {
    ...MessageFields
  }
}
    fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`),Ke=new h(`
    query ConversationLastSeq($id: ID!) {
  conversation(id: $id) {
    id
    lastSeq
  }
}
    `),me=new h(`
    query ConversationMessages($id: ID!, $last: Int, $before: String, $first: Int, $after: String) {
  conversation(id: $id) {
    id
    lastSeq
    messages(last: $last, before: $before, first: $first, after: $after) {
      pageInfo {
        hasPreviousPage
        hasNextPage
        startCursor
        endCursor
      }
      nodes {
        ...MessageFields
      }
    }
  }
}
    fragment MessageFields on Message {
  id
  seq
  conversationId
  clientMessageId
  kind
  body
  createdAt
  editedAt
  deletedAt
  streaming
  metadata
  status
  replyTo {
    id
    seq
    body
    sender {
      id
      displayName
    }
  }
  threadRootId
  replyCount
  attachments {
    url
    name
    mimeType
    size
  }
  reactions {
    emoji
    count
    reactedByMe
  }
  sender {
    id
    username
    displayName
    avatarUrl
    isBot
  }
}`);var it="CANCELLED";function at(){let t=new Uint8Array(16);return globalThis.crypto.getRandomValues(t),Array.from(t,e=>e.toString(16).padStart(2,"0")).join("")}var ne=class{constructor(e,n,s){this.outbox=s;this.clientMessageId=e.clientMessageId,this.input=e,this.createdAt=n,this.optimistic={__typename:"Message",id:`optimistic:${e.clientMessageId}`,clientMessageId:e.clientMessageId,conversationId:String(e.conversationId),body:(e.body??"").trim(),kind:e.kind??"TEXT",metadata:e.metadata??null,replyToId:e.replyToId==null?null:String(e.replyToId),createdAt:n,seq:null},this.#e()}outbox;clientMessageId;input;createdAt;optimistic;status="pending";message;error;#t=new Set;#s;#n;#r;get done(){return this.#s}retry(){this.status==="failed"&&(delete this.error,this.#e(),this.outbox.requeue(this))}cancel(){this.status==="sent"||this.status==="sending"||(this.outbox.remove(this),this.fail(new E("cancelled",{code:it})))}onChange(e){return this.#t.add(e),()=>this.#t.delete(e)}set(e,n){this.status=e,n&&(this.error=n),this.#i()}sent(e){this.message=e,this.status="sent",delete this.error,this.#n(e),this.#i()}fail(e){this.status="failed",this.error=e,this.#r(e),this.#i()}#e(){this.#s=new Promise((e,n)=>{this.#n=e,this.#r=n}),this.#s.catch(()=>{})}#i(){for(let e of this.#t)e(this);this.outbox.changed()}},se=class{constructor(e){this.options=e;for(let n of this.#i()){let s=new ne({...n.input,clientMessageId:n.clientMessageId},n.createdAt,this);n.failed&&(s.status="failed",s.error=new E(n.failed.message,{code:n.failed.code,...n.failed.field?{field:n.failed.field}:{}})),this.items.push(s)}this.items.length&&queueMicrotask(()=>this.pump())}options;items=[];#t=new Set;#s=!1;#n=!1;#r=null;add(e){let{clientMessageId:n,...s}=e,r={...s,body:s.body??"",clientMessageId:n??at()},i=new ne(r,new Date().toISOString(),this);return this.items.push(i),this.changed(),this.pump(),i}onChange(e){return this.#t.add(e),()=>this.#t.delete(e)}nudge(){this.#r?.(),this.pump()}close(){this.#n=!0,this.#r?.()}requeue(e){this.remove(e),this.items.push(e),e.set("pending"),this.pump()}remove(e){let n=this.items.indexOf(e);n>=0&&this.items.splice(n,1)}changed(){this.#a();for(let e of this.#t)e(this.items)}async pump(){if(!(this.#s||this.#n)){this.#s=!0;try{let e=0;for(;;){if(this.#n)return;let n=this.items.find(s=>s.status==="pending");if(!n||(await this.options.whenOnline(),this.#n))return;n.set("sending");try{let s=await this.options.request(Ve,{input:n.input});if(n.status!=="sending")continue;this.remove(n),n.sent(s.sendMessage),e=0}catch(s){let r=s instanceof E?s:E.fromSocketError(s);if(r.permanent){n.fail(r);continue}n.set("pending",r),e+=1;let i=Math.min(this.options.maxRetryDelay,250*2**Math.min(e,7));await new Promise(o=>{let a=setTimeout(l,i);function l(){clearTimeout(a),o()}this.#r=l}),this.#r=null}}}finally{this.#s=!1}}}get#e(){return`${this.options.storageKey}:outbox`}#i(){try{let e=this.options.storage?.getItem(this.#e),n=e?JSON.parse(e):[];return Array.isArray(n)?n:[]}catch{return[]}}#a(){let e=this.options.storage;if(!e||this.#n)return;let n=this.items.map(s=>({clientMessageId:s.clientMessageId,input:s.input,createdAt:s.createdAt,...s.status==="failed"&&s.error?{failed:{message:s.error.message,code:s.error.code,...s.error.field?{field:s.error.field}:{}}}:{}}));try{n.length?e.setItem(this.#e,JSON.stringify(n)):e.removeItem(this.#e)}catch{}}};var W=class extends H{#t=new Set;constructor(e,n,s){let r=new Set;super(e,n,s,(i,o)=>{let a=i.events??i.conversationEvents;if(!a)return[];let l=a.__typename;if(a.cursor){if(!(l==="StreamLiveEvent"||l==="CursorExpiredEvent")){if(r.has(a.cursor))return[];r.add(a.cursor),r.size>1e3&&r.delete(r.values().next().value)}o.after=a.cursor}if(l==="CursorExpiredEvent")for(let d of this.#t)d(a);return[a]})}get cursor(){return this.payload.variables.after??null}onRefetchNeeded(e){return this.#t.add(e),()=>this.#t.delete(e)}},re=class extends H{constructor(e,n,s){super(e,je.toString(),n,(r,i)=>{let o=r.messageAdded;if(!o)return[];let a=i.afterSeq;return a!=null&&o.seq<=a?[]:(i.afterSeq=o.seq,[o])},s)}get lastSeq(){return this.payload.variables.afterSeq??null}};function ot(t){let e=globalThis.location?.href,n=new URL(t,e);return n.protocol=n.protocol==="https:"?"wss:":"ws:",n.pathname=n.pathname.replace(/\/$/,"")+"/ws",n.toString()}function Ge(t,e){return e?t.replace("...EventFields",`...EventFields
    ${e}`):t}function pe(t){let e=t.token??null,n=t.getToken,s=async()=>n?await n()??null:e,r=t.maxRetryDelay??1e4,i=t.fetch??globalThis.fetch.bind(globalThis),o=we({url:t.url,fetch:i,token:s,refreshable:n!==void 0,rateLimitRetries:t.rateLimitRetries??2,maxRetryAfter:60}),a=new te({url:t.wsUrl??ot(t.url),token:s,webSocketImpl:t.webSocketImpl,maxRetryDelay:r}),l=t.storage===void 0?globalThis.localStorage??null:t.storage,d=new se({request:o,storage:l,storageKey:t.storageKey??"parley",whenOnline:()=>a.whenOnline(),maxRetryDelay:r});a.onConnected(()=>d.nudge());let c=globalThis.window,S=()=>a.setNetworkOnline(!1),M=()=>{a.setNetworkOnline(!0),d.nudge()};c?.addEventListener&&(c.addEventListener("offline",S),c.addEventListener("online",M),c.navigator?.onLine===!1&&S());let $=new Set,z=y=>($.add(y),y);return{request:o,setToken(y){e=y,n=void 0,a.reconnect(),d.nudge()},get connectionState(){return a.state},onConnectionState:y=>a.onState(y),events(y={}){return z(new W(a.client,Ge($e.toString(),y.fields),{after:y.after??null}))},conversationEvents(y,q={}){return z(new W(a.client,Ge(Be.toString(),q.fields),{conversationId:y,after:q.after??null}))},messages(y,q={}){let D={conversationId:y,afterSeq:q.afterSeq??null},N=q.afterSeq==null?async R=>{let B=await o(Ke,{id:y});B.conversation&&R.afterSeq==null&&(R.afterSeq=B.conversation.lastSeq)}:void 0;return z(new re(a.client,D,N))},send:y=>d.add(y),get outbox(){return d.items},onOutboxChange:y=>d.onChange(y),setNetworkOnline(y){a.setNetworkOnline(y),y&&d.nudge()},subscribe:(y,q)=>Ce(a.client,y,q),currentToken:s,ws:a.client,async close(){c?.removeEventListener&&(c.removeEventListener("offline",S),c.removeEventListener("online",M)),d.close();for(let y of $)y.close();await a.dispose()}}}var lt={possibleTypes:{Event:["ConversationUpdatedEvent","CursorExpiredEvent","DeliveryReceiptEvent","MemberJoinedEvent","MemberLeftEvent","MemberRemovedEvent","MemberRoleChangedEvent","MentionEvent","MessageAddedEvent","MessageAppendedEvent","MessageDeletedEvent","MessageEditedEvent","MessageFinishedEvent","PresenceEvent","ReactionChangedEvent","ReadReceiptEvent","StreamLiveEvent","TypingEvent","UnreadCountsChangedEvent"],Node:["Conversation","Message","User"]}},He=lt;var zt=He.possibleTypes;function f(t,e={},...n){let s=document.createElement(t);for(let[r,i]of Object.entries(e))i==null||i===!1||(typeof i=="function"?s.addEventListener(r.replace(/^on/,""),i):i===!0?s.setAttribute(r,""):s.setAttribute(r,String(i)));for(let r of n)r==null||r===!1||s.append(typeof r=="string"?document.createTextNode(r):r);return s}function u(t){let e=document.getElementById(t);if(!e)throw new Error(`#${t} is missing from index.html`);return e}function T(t,e){t.hidden=!e}function ze(t){let e=new Date(t),n=new Date,s=e.toLocaleTimeString([],{hour:"2-digit",minute:"2-digit"});return e.toDateString()===n.toDateString()?s:n.getTime()-e.getTime()<6*864e5?`${e.toLocaleDateString([],{weekday:"short"})} ${s}`:e.toLocaleDateString([],{day:"numeric",month:"short"})}var dt=["👍","❤️","😂","🎉"],Qe=30,ut=3e3,gt=4e3,ct=7e3,ie=class{#t;#s;#n=new Map;#r=0;#e=null;#i=new Map;#a;#o=[];#l;#d=0;#u;#g=!1;#R=!1;constructor(e,n,s){this.#t=e,this.#s=n,this.#l=e.connectionState,u("me-name").textContent=n.displayName||n.username,this.#a=e.events().subscribe({next:a=>this.#K(a),error:a=>this.#p(`The live stream stopped: ${O(a)}`)}),this.#o.push(e.onConnectionState(a=>{let l=this.#l;this.#l=a,a==="live"&&l!=="live"&&l!=="connecting"&&this.#A()}),e.onOutboxChange(()=>this.#m())),this.#T();let r=(a,l,d)=>{a.addEventListener(l,d),this.#o.push(()=>a.removeEventListener(l,d))};r(u("sign-out"),"click",async()=>{await this.#t.request(_e).catch(()=>{}),s()}),r(u("back"),"click",()=>this.#v()),r(u("open-direct"),"submit",a=>{this.#P(a)}),r(u("create-group"),"submit",a=>{this.#U(a)}),r(u("open-direct"),"input",a=>{this.#L(a)}),r(u("composer"),"submit",a=>{a.preventDefault(),this.#q()});let i=u("composer").querySelector("textarea");r(i,"keydown",a=>{a.key==="Enter"&&!a.shiftKey&&(a.preventDefault(),this.#q())}),r(i,"input",()=>this.#V(i.value)),r(i,"blur",()=>this.#y()),r(u("load-older"),"click",()=>{this.#k()}),r(u("history"),"scroll",()=>{u("history").scrollTop<40&&this.#k()});let o=()=>{document.visibilityState==="visible"&&this.#f()};document.addEventListener("visibilitychange",o),this.#o.push(()=>document.removeEventListener("visibilitychange",o))}async close(){this.#R=!0,this.#a.unsubscribe();for(let e of this.#o)e();for(let e of this.#i.values())for(let n of e.values())clearTimeout(n.timer);clearTimeout(this.#u),this.#n.clear(),this.#e=null,u("inbox").replaceChildren(),u("messages").replaceChildren(),T(u("conversation"),!1),T(u("placeholder"),!0),await this.#t.close()}async#T(){try{let e=await this.#t.request(Ne,{first:50});this.#r=e.unreadCount;for(let n of e.conversations.nodes)this.#n.set(n.id,n);this.#c()}catch(e){this.#p(`The inbox could not be loaded: ${O(e)}`)}}async#A(){await this.#T(),this.#e&&await this.#x(this.#e.id),this.#f()}async#M(e){try{let n=await this.#t.request(Fe,{id:e});return n.conversation?this.#n.set(e,n.conversation):this.#n.delete(e),this.#c(),n.conversation}catch{return null}}#D(){return[...this.#n.values()].sort((e,n)=>n.lastActivityAt.localeCompare(e.lastActivityAt))}#c(){let e=this.#D().map(s=>{let r=s.lastMessage,i=r?`${r.sender?.id===this.#s.id?"You: ":r.sender&&s.kind==="GROUP"?`${r.sender.displayName}: `:""}${mt(r)}`:"No messages yet";return f("li",{"data-testid":"conversation-item","data-conversation-id":s.id,"data-title":s.title,"data-unread":s.unreadCount,class:`${s.id===this.#e?.id?"active":""} ${s.unreadCount?"unread":""}`,onclick:()=>{this.#E(s.id)}},f("span",{class:"title","data-testid":"conversation-item-title"},s.kind==="GROUP"?`# ${s.title}`:s.title),f("span",{class:"last","data-testid":"conversation-last"},i),s.unreadCount>0&&f("span",{class:"badge","data-testid":"unread-badge"},String(s.unreadCount)))});u("inbox").replaceChildren(...e),T(u("inbox-empty"),e.length===0);let n=u("total-unread");n.textContent=String(this.#r),T(n,this.#r>0),document.title=`${this.#r?`(${this.#r}) `:""}Parley demo chat`}async#P(e){e.preventDefault();let n=e.currentTarget,s=String(new FormData(n).get("username")??"").trim();if(s)try{let r=await this.#C(s),o=(await this.#t.request(De,{userId:r.id})).openDirectConversation;this.#n.set(o.id,o),n.reset(),this.#p(null),await this.#E(o.id)}catch(r){this.#p(O(r))}}async#U(e){e.preventDefault();let n=e.currentTarget,s=new FormData(n),r=String(s.get("title")??"").trim(),i=String(s.get("members")??"").split(/[\s,]+/).filter(Boolean);try{let o=await Promise.all(i.map(d=>this.#C(d))),l=(await this.#t.request(Pe,{input:{memberIds:o.map(d=>d.id),...r?{title:r}:{}}})).createGroupConversation;this.#n.set(l.id,l),n.reset(),n.closest("details")?.removeAttribute("open"),this.#p(null),await this.#E(l.id)}catch(o){this.#p(O(o))}}async#C(e){let s=(await this.#t.request(ge,{search:e,first:20})).users.nodes.find(r=>r.username.toLowerCase()===e.toLowerCase());if(!s)throw new Error(`Nobody is called “${e}”.`);if(s.id===this.#s.id)throw new Error("That is you.");return s}async#L(e){let s=e.target.value.trim();if(!(s.length<2))try{let r=await this.#t.request(ge,{search:s,first:8});u("user-suggestions").replaceChildren(...r.users.nodes.filter(i=>i.id!==this.#s.id).map(i=>f("option",{value:i.username},i.displayName)))}catch{}}async#E(e){this.#e?.id!==e&&(this.#y(),this.#e={id:e,messages:new Map,startCursor:null,hasOlder:!1,loadingOlder:!1}),document.querySelector(".app")?.classList.add("in-conversation"),T(u("placeholder"),!1),T(u("conversation"),!0),this.#h(),this.#c(),this.#m(),this.#I(),await this.#x(e),this.#S(),u("composer").querySelector("textarea")?.focus(),await this.#f()}#v(){this.#y(),this.#e=null,document.querySelector(".app")?.classList.remove("in-conversation"),T(u("conversation"),!1),T(u("placeholder"),!0),this.#c()}#h(){let e=this.#e&&this.#n.get(this.#e.id);if(!e)return;u("conversation-title").textContent=e.title;let n=e.members.nodes.filter(s=>s.user.id!==this.#s.id);u("conversation-sub").textContent=e.kind==="GROUP"?`${e.memberCount} members`:n.length?`@${n[0]?.user.username}${n[0]?.user.online?" · online":""}`:""}async#x(e){try{let n=await this.#t.request(me,{id:e,last:Qe}),s=this.#e;if(!n.conversation||s?.id!==e)return;let r=s.messages.size===0;for(let i of n.conversation.messages.nodes)this.#b(s,i);r&&(s.startCursor=n.conversation.messages.pageInfo.startCursor??null,s.hasOlder=n.conversation.messages.pageInfo.hasPreviousPage),this.#m()}catch(n){n instanceof E&&n.code==="NOT_FOUND"&&this.#v()}}async#k(){let e=this.#e;if(!e||!e.hasOlder||e.loadingOlder||!e.startCursor)return;e.loadingOlder=!0;let n=u("history"),s=n.scrollHeight-n.scrollTop;try{let r=await this.#t.request(me,{id:e.id,last:Qe,before:e.startCursor});if(!r.conversation||this.#e!==e)return;for(let i of r.conversation.messages.nodes)this.#b(e,i);e.startCursor=r.conversation.messages.pageInfo.startCursor??null,e.hasOlder=r.conversation.messages.pageInfo.hasPreviousPage,this.#m(),n.scrollTop=n.scrollHeight-s}catch(r){this.#p(`Older messages could not be loaded: ${O(r)}`)}finally{e.loadingOlder=!1}}#b(e,n){let s=e.messages.get(n.seq);(!s||(n.editedAt??"")>=(s.editedAt??""))&&e.messages.set(n.seq,n)}#m(){let e=this.#e,n=u("messages");if(!e){n.replaceChildren();return}let s=this.#n.get(e.id),r=u("history"),i=r.scrollHeight-r.scrollTop-r.clientHeight<60,o=[...e.messages.values()].sort((c,S)=>c.seq-S.seq),a=new Set(o.map(c=>c.clientMessageId).filter(Boolean)),l=this.#t.outbox.filter(c=>c.input.conversationId===e.id&&!a.has(c.clientMessageId)),d=o.map(c=>this.#O(c,s));for(let c of l)d.push(this.#B(c));n.replaceChildren(...d),T(u("load-older"),e.hasOlder),i&&this.#S()}#O(e,n){if(e.kind==="SYSTEM")return f("li",{class:"message system","data-testid":"message","data-seq":e.seq,"data-kind":"SYSTEM"},f("div",{class:"bubble","data-testid":"message-body"},e.body));let s=e.sender?.id===this.#s.id,r=!!e.deletedAt,i=s?this.#j(e,n):null;return f("li",{class:`message ${s?"mine":"theirs"}`,"data-testid":"message","data-seq":e.seq,"data-id":e.id,"data-status":s?"sent":null,"data-mine":s},!s&&n?.kind==="GROUP"&&f("span",{class:"who"},e.sender?.displayName??""),f("div",{class:"bubble","data-testid":"message-body"},r?"Message deleted":e.body),!r&&this.#$(e.id,e.reactions),f("div",{class:"meta"},f("time",{datetime:e.createdAt},ze(e.createdAt)),e.editedAt&&!r&&"· edited",i&&f("span",{"data-testid":"message-status","data-receipt":i.kind},`· ${i.text}`),!r&&f("span",{class:"react-bar"},...dt.map(o=>f("button",{type:"button",title:`React with ${o}`,"data-testid":"react","data-emoji":o,onclick:()=>{this.#N(e,o)}},o)))))}#$(e,n){return n.length?f("div",{class:"reactions","data-testid":"reactions"},...n.map(s=>f("button",{type:"button",class:`reaction ${s.reactedByMe?"mine":""}`,"data-testid":"reaction","data-emoji":s.emoji,"data-count":s.count,"data-mine":s.reactedByMe,title:s.reactedByMe?"Remove your reaction":"React too",onclick:()=>{let r=this.#_(e);r&&this.#N(r,s.emoji)}},`${s.emoji} ${s.count}`))):null}#B(e){let n=e.status==="failed";return f("li",{class:`message mine ${n?"failed":"pending"}`,"data-testid":"message","data-status":e.status,"data-client-id":e.clientMessageId,"data-mine":!0},f("div",{class:"bubble","data-testid":"message-body"},e.optimistic.body),f("div",{class:"meta"},f("span",{"data-testid":"message-status","data-receipt":e.status},n?`Not sent: ${e.error?O(e.error):"failed"}`:e.status==="sending"?"Sending…":"Waiting to send…"),n&&f("button",{type:"button",class:"link","data-testid":"retry",onclick:()=>e.retry()},"Retry"),n&&f("button",{type:"button",class:"link","data-testid":"discard",onclick:()=>e.cancel()},"Discard")))}#j(e,n){let s=n?n.members.nodes.filter(i=>i.user.id!==this.#s.id):[],r=s.filter(i=>i.lastReadSeq>=e.seq);return e.status==="READ"||r.length?n?.kind==="GROUP"?{kind:"seen",text:`Seen by ${r.map(i=>i.user.displayName).join(", ")}`}:{kind:"seen",text:"Seen"}:e.status==="DELIVERED"||s.some(i=>i.lastDeliveredSeq>=e.seq)?{kind:"delivered",text:"Delivered"}:{kind:"sent",text:"Sent"}}#_(e){for(let n of this.#e?.messages.values()??[])if(n.id===e)return n}#S(){let e=u("history");e.scrollTop=e.scrollHeight}#q(){let e=this.#e,n=u("composer").querySelector("textarea"),s=n.value.trim();if(!e||!s)return;n.value="",this.#y();let r=this.#t.send({conversationId:e.id,body:s});r.onChange(()=>{r.status==="sent"&&r.message&&this.#e?.id===r.message.conversationId&&this.#b(this.#e,r.message),this.#m()}),this.#m(),this.#S()}#V(e){let n=this.#e;if(!n)return;if(clearTimeout(this.#u),!e.trim()){this.#y();return}let s=Date.now();s-this.#d>ut&&(this.#d=s,this.#t.request(ce,{conversationId:n.id,typing:!0}).catch(()=>{})),this.#u=setTimeout(()=>this.#y(),gt)}#y(){clearTimeout(this.#u),!(!this.#d||!this.#e)&&(this.#d=0,this.#t.request(ce,{conversationId:this.#e.id,typing:!1}).catch(()=>{}))}async#N(e,n){let s=e.reactions.some(r=>r.emoji===n&&r.reactedByMe);try{let r=s?(await this.#t.request(Oe,{messageId:e.id,emoji:n})).removeReaction:(await this.#t.request(Le,{messageId:e.id,emoji:n})).addReaction;this.#F(r.id,r.reactions)}catch(r){this.#p(`The reaction did not go through: ${O(r)}`)}}#F(e,n){let s=this.#_(e);!s||!this.#e||(this.#e.messages.set(s.seq,{...s,reactions:n}),this.#m())}async#f(){let e=this.#e,n=e&&this.#n.get(e.id);if(!e||!n||this.#g||document.visibilityState!=="visible")return;let s=Math.max(n.lastSeq,...e.messages.keys());if(!(n.unreadCount===0&&n.lastReadSeq>=s)){this.#g=!0;try{let r=await this.#t.request(Ue,{input:{conversationId:e.id}}),i=this.#n.get(e.id);if(i){let o=i.unreadCount-r.markRead.unreadCount;this.#n.set(e.id,{...i,unreadCount:r.markRead.unreadCount,lastReadSeq:r.markRead.lastReadSeq}),o>0&&(this.#r=Math.max(0,this.#r-o)),this.#c()}}catch{}finally{this.#g=!1}}}#K(e){if(this.#R)return;let n=e.conversationId??null,s=n?this.#n.get(n):void 0;switch(e.__typename){case"MessageAddedEvent":case"MessageEditedEvent":case"MessageDeletedEvent":case"MessageFinishedEvent":{let r=e.message;if(!s){n&&this.#M(n);return}let i=e.__typename==="MessageAddedEvent",o={...s};(!s.lastMessage||r.seq>=s.lastMessage.seq)&&(o.lastMessage=r),i&&(o.lastSeq=Math.max(s.lastSeq,r.seq),r.createdAt>s.lastActivityAt&&(o.lastActivityAt=r.createdAt)),this.#n.set(s.id,o),i&&r.sender&&this.#w(s.id,r.sender.id),this.#e?.id===s.id&&(this.#b(this.#e,r),this.#m(),i&&r.sender?.id!==this.#s.id&&this.#f()),this.#c();return}case"UnreadCountsChangedEvent":this.#r=e.totalUnreadCount,s&&this.#n.set(s.id,{...s,unreadCount:e.unreadCount}),this.#c();return;case"ReadReceiptEvent":case"DeliveryReceiptEvent":{if(!s||!e.user)return;let r=e.user.id,i=e.__typename==="ReadReceiptEvent"?e.lastReadSeq:null,o=e.__typename==="DeliveryReceiptEvent"?e.lastDeliveredSeq:null,a=s.members.nodes.map(d=>d.user.id!==r?d:{...d,lastReadSeq:Math.max(d.lastReadSeq,i??0),lastDeliveredSeq:Math.max(d.lastDeliveredSeq,o??0,i??0)}),l={...s,members:{...s.members,nodes:a}};r===this.#s.id&&i!=null&&(l.lastReadSeq=Math.max(s.lastReadSeq,i)),this.#n.set(s.id,l),this.#e?.id===s.id&&this.#m();return}case"ReactionChangedEvent":this.#e?.id===n&&this.#F(e.message.id,e.message.reactions);return;case"TypingEvent":if(!n||!e.user||e.user.id===this.#s.id)return;e.typing?this.#G(n,e.user.id,e.user.displayName):this.#w(n,e.user.id);return;case"ConversationUpdatedEvent":{let r=e.conversation?.id??n;if(!r)return;e.conversation?.deletedAt?(this.#n.delete(r),this.#e?.id===r&&this.#v(),this.#c()):this.#M(r).then(()=>this.#h());return}case"MemberJoinedEvent":case"MemberLeftEvent":case"MemberRoleChangedEvent":case"MemberRemovedEvent":if(!n)return;e.__typename!=="MemberJoinedEvent"&&e.__typename!=="MemberRoleChangedEvent"&&e.user?.id===this.#s.id?(this.#n.delete(n),this.#e?.id===n&&this.#v(),this.#c()):this.#M(n).then(()=>this.#h());return;case"PresenceEvent":this.#e&&this.#h();return;case"CursorExpiredEvent":this.#A();return;default:return}}#G(e,n,s){let r=this.#i.get(e);r||this.#i.set(e,r=new Map);let i=r.get(n);i&&clearTimeout(i.timer),r.set(n,{name:s,timer:setTimeout(()=>this.#w(e,n),ct)}),this.#I()}#w(e,n){let s=this.#i.get(e),r=s?.get(n);!s||!r||(clearTimeout(r.timer),s.delete(n),this.#I())}#I(){let e=this.#e?[...this.#i.get(this.#e.id)?.values()??[]].map(n=>n.name):[];u("typing").textContent=e.length===0?"":e.length===1?`${e[0]} is typing…`:`${e.join(", ")} are typing…`}#p(e){let n=u("sidebar-error");n.textContent=e??"",T(n,!!e)}};function mt(t){return t.deletedAt?"Message deleted":t.body?t.body.length>80?`${t.body.slice(0,80)}…`:t.body:t.attachments.length?`📎 ${t.attachments.length} attachment(s)`:""}function O(t){return t instanceof E?t.code==="NETWORK_ERROR"?"no connection":t.message:t instanceof Error?t.message:String(t)}var pt=new URL("../graphql",location.href).toString(),oe="parley-demo:session";function yt(){try{let t=JSON.parse(localStorage.getItem(oe)??"null");return t&&typeof t.token=="string"&&typeof t.userId=="string"?t:null}catch{return null}}function he(t){t?localStorage.setItem(oe,JSON.stringify(t)):localStorage.removeItem(oe)}function Je(t){return pe({url:pt,token:t?.token??null,storage:t?localStorage:null,storageKey:t?`parley-demo:${t.userId}`:"parley-demo:anonymous"})}var ae=u("banner"),vt={live:"",connecting:"Connecting…",reconnecting:"Reconnecting… messages you send now go out when the connection is back.",offline:"You are offline. Messages you send now go out when the connection is back."};function ye(t,e){ae.dataset.state=t;let n=vt[t];ae.textContent=n&&e?`${n} (${e} waiting)`:n,T(ae,t!=="live")}var ve=null;async function Ye(t){let e=Je(t),n=()=>e.outbox.filter(r=>r.status!=="failed").length;e.onConnectionState(r=>ye(r,n())),e.onOutboxChange(()=>ye(e.connectionState,n()));let s;try{s=(await e.request(qe)).me}catch(r){if(r instanceof E&&r.code==="UNAUTHENTICATED"){he(null),await e.close(),J("Your session ended; sign in again.");return}s={id:t.userId,username:"",displayName:""}}T(u("auth"),!1),T(u("app"),!0),ve=new ie(e,s,ht),ye(e.connectionState,n())}async function ht(){let t=ve;ve=null,he(null),t&&await t.close(),T(u("app"),!1),T(ae,!1),J(null)}function J(t){T(u("auth"),!0);let e=u("auth-error");e.textContent=t??"",T(e,!!t)}function bt(t){return t instanceof E?t.code==="NETWORK_ERROR"?"Parley cannot be reached; try again.":t.code==="RATE_LIMITED"?`Too many attempts; try again in ${t.retryAfter??"a few"} seconds.`:t.field?`${t.field}: ${t.message}`:t.message:String(t)}u("auth-form").addEventListener("submit",async t=>{t.preventDefault();let e=t.currentTarget,s=t.submitter?.value==="register"?"register":"login",r=new FormData(e),i=String(r.get("username")??"").trim(),o=String(r.get("password")??""),a=String(r.get("displayName")??"").trim(),l=[...e.querySelectorAll("button")];l.forEach(c=>c.disabled=!0);let d=Je(null);try{let c=s==="register"?(await d.request(xe,{input:{username:i,password:o,...a?{displayName:a}:{}}})).register:(await d.request(ke,{input:{username:i,password:o}})).login,S={token:c.token,userId:c.user.id};he(S),e.reset(),J(null),await Ye(S)}catch(c){J(bt(c))}finally{l.forEach(c=>c.disabled=!1),await d.close()}});window.addEventListener("storage",t=>{t.key===oe&&location.reload()});var We=yt();We?Ye(We):J(null);})();
