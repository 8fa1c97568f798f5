// The Stripe webhook: the signature checked by stripe-node's constructEvent over the raw body; a paid checkout
// grants its credits.
'use strict';
const { Controller, Post, Req, Headers, HttpCode, Injectable, Logger, BadRequestException } = require('@nestjs/common');
const Stripe = require('stripe');
const config = require('./config');
const { CreditsService } = require('./credits.service');
const { injectable, route } = require('./decorate');

class StripeWebhookService {
  constructor(credits) {
    this.credits = credits;
    this.logger = new Logger('StripeWebhookService');
    this.stripe = new Stripe(config.stripeSecretKey());
  }

  verify(rawBody, signature) {
    try {
      return this.stripe.webhooks.constructEvent(rawBody, signature, config.stripeWebhookSecret());
    } catch (error) {
      this.logger.error(error.message, error.stack);
      throw new BadRequestException(`Webhook Error: ${error.type || error.name}`);
    }
  }

  async handle(event) {
    if (event.type !== 'checkout.session.completed') {
      this.logger.log(`Ignored Stripe event ${event.type} ${event.id}`);
      return;
    }
    const session = event.data.object;
    const user = session.client_reference_id;
    const credits = Number(session.metadata.credits);
    this.logger.log(`Payment accepted: ${event.type} ${session.id} for user ${user} (credits=${credits})`);
    await this.credits.grant(user, credits);
  }
}
injectable(StripeWebhookService, [Injectable()], [CreditsService]);

class StripeWebhookController {
  constructor(webhooks) {
    this.webhooks = webhooks;
  }

  async receive(request, signature) {
    const event = this.webhooks.verify(request.rawBody, signature);
    await this.webhooks.handle(event);
    return { received: true };
  }
}
injectable(StripeWebhookController, [Controller('api/v1/payments/stripe')], [StripeWebhookService]);
route(StripeWebhookController, 'receive', [Post('webhook'), HttpCode(200)], [Req(), Headers('stripe-signature')]);

module.exports = { StripeWebhookController, StripeWebhookService };
