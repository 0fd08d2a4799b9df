import { Redis } from 'ioredis';

export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = 6379;

/**
 * A connection to the local Redis. BullMQ's ESM build cannot load ioredis itself, so every Queue and Worker gets
 * its own instance (`maxRetriesPerRequest: null` as BullMQ requires for blocking commands).
 */
export function redisConnection(): Redis {
  return new Redis({ host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null });
}
