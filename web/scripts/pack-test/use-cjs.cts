// Type-checked against the installed tarballs (CommonJS side: the `require` condition's declarations).
import client = require('@ssehub/client');
import node = require('@ssehub/node');
import react = require('@ssehub/react');

const c = client.createClient<{ 'news:item': { seq: number } }>({ url: '/api/sse' });
c.subscribe('news:item', (d) => d.seq.toFixed());
export const used = [node.createPublisher, react.useSSE];
