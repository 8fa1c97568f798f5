// Credits on Postgres through TypeORM: granted by paid checkouts, deducted by renders; a deduction locks the row.
'use strict';
const { Injectable, Logger, HttpException, HttpStatus, ServiceUnavailableException } = require('@nestjs/common');
const { DataSource, EntitySchema } = require('typeorm');
const { injectable } = require('./decorate');

const CreditAccount = new EntitySchema({
  name: 'CreditAccount',
  tableName: 'credit_accounts',
  columns: {
    userId: { name: 'user_id', type: 'varchar', primary: true },
    balance: { type: 'int', default: 0 },
  },
});

class InsufficientBalance extends Error {
  constructor(balance, required) {
    super(`insufficient balance (balance=${balance}, required=${required})`);
    this.balance = balance;
  }
}

class CreditsService {
  constructor(dataSource) {
    this.dataSource = dataSource;
    this.logger = new Logger('CreditsService');
  }

  async grant(userId, credits) {
    const [row] = await this.dataSource.query(
      'INSERT INTO credit_accounts (user_id, balance) VALUES ($1, $2) ' +
        'ON CONFLICT (user_id) DO UPDATE SET balance = credit_accounts.balance + $2 RETURNING balance',
      [userId, credits],
    );
    this.logger.log(`Credits granted to user ${userId}: +${credits} (balance=${row.balance})`);
    return row.balance;
  }

  async deduct(userId, amount) {
    try {
      const balance = await this.dataSource.transaction(async (manager) => {
        const rows = await manager.query('SELECT balance FROM credit_accounts WHERE user_id = $1 FOR UPDATE', [userId]);
        const current = rows.length ? rows[0].balance : 0;
        if (current < amount) throw new InsufficientBalance(current, amount);
        const [row] = await manager.query(
          'UPDATE credit_accounts SET balance = balance - $2 WHERE user_id = $1 RETURNING balance',
          [userId, amount],
        );
        return row.balance;
      });
      this.logger.log(`Credits deducted for user ${userId}: ${amount} (balance=${balance})`);
      return balance;
    } catch (error) {
      if (error instanceof InsufficientBalance) {
        this.logger.warn(`Credit deduction failed for user ${userId}: ${error.message}`);
        throw new HttpException('insufficient balance', HttpStatus.PAYMENT_REQUIRED);
      }
      this.logger.error(`Credit deduction failed for user ${userId}: ${error.message}`, error.stack);
      throw new ServiceUnavailableException('credits are unavailable');
    }
  }
}
injectable(CreditsService, [Injectable()], [DataSource]);

module.exports = { CreditsService, CreditAccount };
