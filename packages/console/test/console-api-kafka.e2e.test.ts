import { consoleApiScenario } from './console-api.ts';

consoleApiScenario({ name: 'Kafka', url: process.env.KAFKA_URL ?? 'kafka://127.0.0.1:19092' });
