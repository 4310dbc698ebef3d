import { createPublisher } from '@ssehub/node';
import type { EventMap, EventTargets } from './events.gen';

// The publisher singleton of the guide. Constructing it reads nothing, so
// `next build` works without SSEHUB_URL; SSEHUB_URL and
// SSEHUB_PUBLISHER_TOKEN are read at the first emit.
export const sse = createPublisher<EventMap, EventTargets>();
