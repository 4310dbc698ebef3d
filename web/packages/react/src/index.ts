'use client';
export { SSEProvider, useSSEClient, type SSEProviderProps } from './context.js';
export { useSSE, useSSEEvent, type SSEValue } from './hooks.js';
export {
  useChatSSE,
  useConversation,
  subscribeToConversation,
  conversationChannel,
  type ChatSSE,
  type ChatData,
  type ChatPayload,
  type ConversationHandlers,
} from './chat.js';
