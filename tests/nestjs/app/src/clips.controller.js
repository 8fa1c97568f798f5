// Clips: read through the Redis cache, renders queued on BullMQ, credits spent, and publish (which has a bug).
'use strict';
const { Body, Controller, Get, HttpCode, Logger, Param, Post, Query, ServiceUnavailableException } = require('@nestjs/common');
const { CreditsService } = require('./credits.service');
const { RedisService } = require('./redis.service');
const { injectable, route } = require('./decorate');

class ClipsController {
  constructor(redis, credits) {
    this.redis = redis;
    this.credits = credits;
    this.logger = new Logger('ClipRenderQueue');
    this.drafts = new Map();
  }

  async get(id) {
    const key = `clip:${id}`;
    let clip = await this.redis.cache.get(key);
    if (clip === null) {
      clip = JSON.stringify({ id, title: `Clip ${id}` });
      await this.redis.cache.set(key, clip, 'EX', 60);
    }
    return JSON.parse(clip);
  }

  async render(id) {
    try {
      const job = await this.redis.queue.add('render', { clipId: id });
      return { queued: job.id };
    } catch (error) {
      this.logger.error(`Failed to enqueue render job for clip ${id}: ${error.message}`, error.stack);
      throw new ServiceUnavailableException('render queue unavailable');
    }
  }

  async spend(body) {
    const balance = await this.credits.deduct(body.userId, Number(body.amount));
    return { balance };
  }

  publish(id) {
    const draft = this.drafts.get(id); // the bug: a clip never drafted has no entry
    return { id, renditions: draft.renditions.length };
  }

  async slow(ms) {
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
    return { waited: Number(ms) };
  }
}
injectable(ClipsController, [Controller('api/v1')], [RedisService, CreditsService]);
route(ClipsController, 'get', [Get('clips/:id')], [Param('id')]);
route(ClipsController, 'render', [Post('clips/:id/render'), HttpCode(202)], [Param('id')]);
route(ClipsController, 'spend', [Post('credits/deduct'), HttpCode(200)], [Body()]);
route(ClipsController, 'publish', [Post('clips/:id/publish')], [Param('id')]);
route(ClipsController, 'slow', [Get('reports/slow')], [Query('ms')]);

class HealthController {
  constructor(redis) {
    this.redis = redis;
  }

  health() {
    return { status: 'ok', redis: this.redis.status() };
  }
}
injectable(HealthController, [Controller('api/v1')], [RedisService]);
route(HealthController, 'health', [Get('health')]);

module.exports = { ClipsController, HealthController };
