import type { DemoEvents } from './types.ts';

// Types every client and hook of the demo with the demo's events.
declare module '@ssehub/client' {
  interface Register {
    events: DemoEvents;
  }
}
