// The entry point is a plain module: the pure helpers (conversationChannel,
// subscribeToConversation) work in route handlers and server actions. Only
// the modules with hooks and context are 'use client'.
export { SSEProvider, useSSEClient, type SSEProviderProps } from './context.js';
export { useSSE, useSSEEvent, type SSEValue } from './hooks.js';
export { useChatSSE, useConversation, type ChatSSE } from './chat.js';
export {
  subscribeToConversation,
  conversationChannel,
  type ChatData,
  type ChatPayload,
  type ConversationHandlers,
} from './conversation.js';
