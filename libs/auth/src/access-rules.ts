import { SetMetadata } from '@nestjs/common';
import type { Scope } from './grant';

export const REQUIRED_SCOPE = 'timeline:required-scope';
export const PUBLIC_ROUTE = 'timeline:public-route';

/** The scope a route needs. A route with neither this nor `@Public()` is refused to everyone (deny by default). */
export const RequiresScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);

/** A route anyone may call without a token: health, the contract documents, static pages with no data in them. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
