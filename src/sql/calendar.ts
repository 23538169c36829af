/**
 * Calendar days as PostgreSQL's date type knows them (proleptic Gregorian, no time zone), counted
 * from 1970-01-01. Public date domains are computed here from policy text alone: the days of a
 * range, and the image of that range under date_trunc and EXTRACT, with PostgreSQL's definitions
 * (ISO weeks start on Monday; `dow` is 0 for Sunday, `isodow` 7). Everything runs on UTC dates, the
 * same calendar the database uses under the TimeZone the executor fixes to UTC.
 */

const DAY_MS = 86_400_000;

/** The day number of `YYYY-MM-DD`, or undefined when the text is not a real calendar day. */
export function dayNumber(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: that maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return undefined;
  return Math.round(date.getTime() / DAY_MS);
}

export function dayText(day: number): string {
  const date = new Date(day * DAY_MS);
  const year = String(date.getUTCFullYear()).padStart(4, '0');
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  return `${year}-${month}-${String(date.getUTCDate()).padStart(2, '0')}`;
}

/** The units date_trunc accepts that a day-granular domain can say everything about. */
export const TRUNCATION_UNITS = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type TruncationUnit = (typeof TRUNCATION_UNITS)[number];

/** date_trunc(unit, day) as a day number. */
export function truncateDay(day: number, unit: TruncationUnit): number {
  const date = new Date(day * DAY_MS);
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth()];
  switch (unit) {
    case 'day':
      return day;
    case 'week':
      // 1970-01-01 was a Thursday: Monday-based weekday is (day + 3) mod 7.
      return day - ((((day + 3) % 7) + 7) % 7);
    case 'month':
      return firstOf(year, month);
    case 'quarter':
      return firstOf(year, month - (month % 3));
    case 'year':
      return firstOf(year, 0);
  }
}

export function firstDayOfYear(year: number): number {
  return firstOf(year, 0);
}

function firstOf(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 1);
  return Math.round(date.getTime() / DAY_MS);
}

/** Fields EXTRACT / date_part return for a day, as PostgreSQL defines them; undefined for others. */
export function extractField(day: number, field: string): number | undefined {
  const date = new Date(day * DAY_MS);
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth() + 1];
  const weekday = (((day + 4) % 7) + 7) % 7; // 0 = Sunday
  switch (field) {
    case 'year':
      return year;
    case 'quarter':
      return Math.floor((month - 1) / 3) + 1;
    case 'month':
      return month;
    case 'day':
      return date.getUTCDate();
    case 'dow':
      return weekday;
    case 'isodow':
      return weekday === 0 ? 7 : weekday;
    case 'doy':
      return day - firstOf(year, 0) + 1;
    case 'week':
      return isoWeek(day).week;
    case 'isoyear':
      return isoWeek(day).year;
    case 'decade':
      return Math.floor(year / 10);
    case 'century':
      return year > 0 ? Math.floor((year + 99) / 100) : undefined;
    default:
      return undefined;
  }
}

/** The ISO 8601 week and its year: the week holding the Thursday of the day's Monday-based week. */
function isoWeek(day: number): { year: number; week: number } {
  const thursday = truncateDay(day, 'week') + 3;
  const year = new Date(thursday * DAY_MS).getUTCFullYear();
  return { year, week: Math.floor((thursday - firstOf(year, 0)) / 7) + 1 };
}

/** The days from `from` to `to` one `unit` apart (`from` aligned to the unit), as generate_series lists them. */
export function seriesDays(from: number, to: number, unit: TruncationUnit): number[] {
  const days: number[] = [];
  for (let day = from; day <= to; day = nextStep(day, unit)) days.push(day);
  return days;
}

function nextStep(day: number, unit: TruncationUnit): number {
  const date = new Date(day * DAY_MS);
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth()];
  switch (unit) {
    case 'day':
      return day + 1;
    case 'week':
      return day + 7;
    case 'month':
      return firstOf(year, month + 1);
    case 'quarter':
      return firstOf(year, month + 3);
    case 'year':
      return firstOf(year + 1, 0);
  }
}
