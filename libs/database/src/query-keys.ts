import type { EventData } from '@timeline/domain';

/**
 * Keys that array filters match with `&&` on a GIN index. The API's filter
 * parameters are turned into the same keys by the functions below.
 */
export const actorKeys = (event: Pick<EventData, 'actors'>): string[] => [
  ...new Set(event.actors.flatMap((actor) => [actor.id, actorRoleKey(actor.id, actor.role)])),
];

export const actorRoleKey = (actorId: string, role: string): string => `${actorId}#${role.toLowerCase()}`;

export const placeKeys = (event: Pick<EventData, 'places'>): string[] => [
  ...new Set(event.places.flatMap((place) => [place.name.toLowerCase(), ...(place.country ? [countryKey(place.country)] : [])])),
];

export const countryKey = (country: string): string => `country:${country.toLowerCase()}`;

/** `place=Vilnius` matches the name; `place=LT` matches the country code as well. */
export const placeFilterKeys = (place: string): string[] => (/^[A-Za-z]{2}$/.test(place) ? [place.toLowerCase(), countryKey(place)] : [place.toLowerCase()]);
