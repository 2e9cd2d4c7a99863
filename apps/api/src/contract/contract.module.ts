import { Module } from '@nestjs/common';
import { ContractController } from './contract.controller';
import { OpenApiController } from './openapi.controller';

/** `/openapi.json` and its `/docs` page; `/asyncapi.json` and `/schemas/<type>.json`. */
@Module({ controllers: [OpenApiController, ContractController] })
export class ContractModule {}
