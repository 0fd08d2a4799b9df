// The contract suite again with classic queues (the `queueType: 'classic'` option): they requeue and
// dead-letter differently from quorum queues, and the guarantees must hold on both.
import { runRabbitMqContract } from './contract-run.ts';

process.env.HERALD_RABBITMQ_TEST_QUEUE_TYPE = 'classic';
await runRabbitMqContract('rabbitmq (classic queues)');
