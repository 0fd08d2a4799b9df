import { statusLag } from './status-lag.ts';

statusLag({ name: 'NATS JetStream', url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
