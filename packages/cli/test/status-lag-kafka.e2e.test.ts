import { statusLag } from './status-lag.ts';

statusLag({ name: 'Kafka', url: process.env.KAFKA_URL ?? 'kafka://127.0.0.1:19092' });
