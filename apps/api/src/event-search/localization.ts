import type { AsJson, EventState } from '@timeline/domain';

/** An event with title and summary in the reader's best language; the original is kept beside them. */
export type LocalizedEvent = AsJson<EventState> & {
  displayLanguage: string;
  original?: { language: string; title: string; summary: string };
};

/** Language ranges of an `Accept-Language` header, best first (`it-IT, en;q=0.8` → it, en). */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return (
    header
      .split(',')
      .map((part, index) => {
        const [range, ...params] = part.trim().split(';');
        const quality = params.map((param) => /^\s*q=([0-9.]+)\s*$/.exec(param)).find(Boolean);
        return { language: range.trim().toLowerCase().split('-')[0], q: quality ? Number(quality[1]) : 1, index };
      })
      // Only ISO 639-1 codes: a range such as `__proto__` must never index an event's translations.
      .filter((entry) => /^[a-z]{2}$/.test(entry.language) && entry.q > 0)
      .sort((a, b) => b.q - a.q || a.index - b.index)
      .map((entry) => entry.language)
  );
}

export function localize(event: AsJson<EventState>, preferred: string[]): LocalizedEvent {
  const language = preferred.find((candidate) => candidate === event.language || event.translations?.[candidate]);
  if (!language || language === event.language) return { ...event, displayLanguage: event.language };
  const translation = event.translations[language];
  return {
    ...event,
    title: translation.title,
    summary: translation.summary ?? event.summary,
    displayLanguage: language,
    original: { language: event.language, title: event.title, summary: event.summary },
  };
}
