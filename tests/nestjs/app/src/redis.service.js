// The cache (ioredis) and the render queue (BullMQ over ioredis). Each client says once that it lost Redis and once
// that it is back, rather than once per reconnection attempt: an outage is one line per client, whatever its length.
'use strict';
const { Injectable, Logger } = require('@nestjs/common');
const Redis = require('ioredis');
const { Queue, Worker } = require('bullmq');
const config = require('./config');
const { injectable } = require('./decorate');

class OutageLog {
  constructor(logger, component) {
    this.logger = logger;
    this.component = component;
    this.down = false;
  }

  failed(error) {
    if (this.down) return;
    this.down = true;
    this.logger.error(`Redis connection lost (${this.component}): ${error.message}`);
  }

  ready() {
    if (!this.down) return;
    this.down = false;
    this.logger.log(`Redis connection restored (${this.component})`);
  }
}

class RedisService {
  constructor() {
    this.logger = new Logger('RedisService');
    this.queueLogger = new Logger('RenderQueue');
    this.outages = {};
  }

  watch(component, logger) {
    this.outages[component] = new OutageLog(logger, component);
    return this.outages[component];
  }

  async onModuleInit() {
    const url = new URL(config.redisUrl());
    const target = { host: url.hostname, port: Number(url.port) };
    // requests fail at once while Redis is away (no offline queue): the API answers 503, it does not hang
    const failFast = { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 1000) };
    this.cache = new Redis({ ...target, ...failFast, lazyConnect: true });
    const cacheWatch = this.watch('cache', this.logger);
    this.cache.on('error', (error) => cacheWatch.failed(error));
    this.cache.on('ready', () => cacheWatch.ready());
    await this.cache.connect();

    this.queueConnection = new Redis({ ...target, ...failFast });
    this.queue = new Queue('render', { connection: this.queueConnection });
    const queueWatch = this.watch('queue', this.queueLogger);
    this.queue.on('error', (error) => queueWatch.failed(error));
    this.queueConnection.on('ready', () => queueWatch.ready());
    await this.queue.waitUntilReady();

    const workerLogger = new Logger('RenderProcessor');
    this.worker = new Worker(
      'render',
      async (job) => ({ clipId: job.data.clipId, renditions: 3 }),
      { connection: { ...target, maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 100, 1000) } },
    );
    const workerWatch = this.watch('worker', workerLogger);
    this.worker.on('error', (error) => workerWatch.failed(error));
    this.worker.on('ready', () => workerWatch.ready());
    this.worker.on('completed', (job) => workerLogger.log(`job ${job.id} completed: clip ${job.data.clipId} rendered`));
    await this.worker.waitUntilReady();
    this.logger.log(`Redis ready at ${url.host} (cache, render queue, render worker)`);
  }

  status() {
    return Object.fromEntries(Object.entries(this.outages).map(([name, log]) => [name, log.down ? 'down' : 'up']));
  }

  async onModuleDestroy() {
    await this.worker.close();
    await this.queue.close();
    this.queueConnection.disconnect();
    this.cache.disconnect();
  }
}
injectable(RedisService, [Injectable()]);

module.exports = { RedisService };
