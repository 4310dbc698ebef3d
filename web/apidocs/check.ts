// The OpenAPI document, as openapi-typescript reads it (gen/openapi.d.ts,
// generated from `ssehub gen openapi --catalog examples/catalog/catalog.yaml`
// by ../scripts/apidocs.sh), against the types of @ssehub/node and of
// `ssehub gen ts`: if they disagree, this file does not compile.
import type { components } from './gen/openapi.js';
import type { BatchEvent, ErrorBody, Target, TargetByKind } from '../packages/node/src/index.js';
import type { EventMap, EventTargets } from '../../examples/catalog/events.gen.js';

type Schemas = components['schemas'];

/** true when A is assignable to B. */
type Assignable<A, B> = [A] extends [B] ? true : false;
/** true when A and B are assignable both ways. */
type Same<A, B> = Assignable<A, B> extends true ? Assignable<B, A> : false;
function expect<T extends true>(): T | void {}

// Targets: each kind, and the union.
expect<Same<TargetByKind['user'], Schemas['UserTarget']>>();
expect<Same<TargetByKind['users'], Schemas['UsersTarget']>>();
expect<Same<TargetByKind['tenant'], Schemas['TenantTarget']>>();
expect<Same<TargetByKind['channel'], Schemas['ChannelTarget']>>();
expect<Same<TargetByKind['broadcast'], Schemas['BroadcastTarget']>>();
expect<Same<Target, Schemas['Target']>>();

// The error body the server documents is what @ssehub/node reads.
expect<Assignable<Schemas['Error']['error'], ErrorBody>>();

// Every catalog payload: the OpenAPI schema and `ssehub gen ts` agree.
type CatalogKey<K extends string> = `catalog.${K extends `${infer A}:${infer B}` ? `${A}.${B}` : K}`;
type PayloadsAgree = {
  [K in keyof EventMap & string]: Same<EventMap[K], Schemas[CatalogKey<K> & keyof Schemas]>;
}[keyof EventMap & string];
expect<PayloadsAgree>();

// What @ssehub/node's emitBatch sends is a valid publish body, and a
// documented publish event of each name is accepted by it.
expect<Assignable<BatchEvent<EventMap, EventTargets>, Schemas['PublishEvent']>>();
expect<Assignable<BatchEvent<EventMap, EventTargets>[], Schemas['PublishBody']>>();
type DocEvent<K> = Extract<Schemas['PublishEvent'], { event: K }>;
type NodeAccepts = {
  [K in keyof EventMap & string]: Assignable<DocEvent<K>, BatchEvent<EventMap, EventTargets>>;
}[keyof EventMap & string];
expect<NodeAccepts>();

// The checks can fail: a target with two kinds, a payload of another event.
// @ts-expect-error not a Target
expect<Assignable<{ userId: string; channel: string } & Schemas['UserTarget'], Target> extends true ? Same<Schemas['UserTarget'], Schemas['ChannelTarget']> : false>();
// @ts-expect-error chat:typing is not chat:message
expect<Same<EventMap['chat:typing'], Schemas['catalog.chat.message']>>();
