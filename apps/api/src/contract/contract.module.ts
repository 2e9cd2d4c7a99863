import { Module } from '@nestjs/common';
import { ContractController } from './contract.controller';

/** `/asyncapi.json` and `/schemas/<type>.json`. */
@Module({ controllers: [ContractController] })
export class ContractModule {}
