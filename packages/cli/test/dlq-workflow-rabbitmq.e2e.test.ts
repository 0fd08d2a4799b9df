import { dlqWorkflow } from './dlq-workflow.ts';

dlqWorkflow({ name: 'RabbitMQ', url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' });
