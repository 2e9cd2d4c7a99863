import { Global, Module } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { TokenVerifier } from './token-verifier';

/** The token verifier, built once from AUTH_*; each app registers `AccessGuard` as its first APP_GUARD. */
@Global()
@Module({
  providers: [{ provide: TokenVerifier, useFactory: (config: TimelineConfig) => new TokenVerifier(config.auth), inject: [TimelineConfig] }],
  exports: [TokenVerifier],
})
export class AuthModule {}
