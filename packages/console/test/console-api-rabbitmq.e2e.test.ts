import { consoleApiScenario } from './console-api.ts';

consoleApiScenario({ name: 'RabbitMQ', url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' });
