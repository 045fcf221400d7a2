/** Where a task stood in a whole reading of the unfinished lists: its list (PENDING, RUNNING) and its place in it. */
type Place = { list: string; at: number };

/**
 * One pass's reading of the unfinished lists, page by page, against the last whole reading.
 * The list keeps its order while tasks come and go, but shifts under a reader: a task that
 * leaves ahead of the read position moves the next page's first task onto the page already
 * read, so it is skipped. A skipped task can only sit in a gap between two pages, so a task
 * missing from between the first and last task of one page has surely left the list (it
 * ended), while one missing from a gap may only have been skipped.
 */
export class ListReading {
  private readonly last: ListReading | null;
  /** This reading: each listed task's place. */
  private readonly places = new Map<string, Place>();
  /** Per list, the ids in the order read. */
  private readonly orders = new Map<string, string[]>();
  /** Per list, the spans of the last reading's places that this one has read through: [after, before). */
  private readonly spans = new Map<string, [number, number][]>();

  constructor(last: ListReading | null) {
    this.last = last;
  }

  /**
   * Takes one page of `list`, page `pageNo` counted from 1; `final` when its answer says no page
   * follows. Answers the tasks of the last reading's `list` that this page shows have left it.
   */
  page(list: string, pageNo: number, ids: string[], final: boolean): string[] {
    const order = this.orders.get(list) ?? [];
    this.orders.set(list, order);
    for (const id of ids) {
      if (this.places.has(id)) continue; // shown again: the list shifted the other way
      this.places.set(id, { list, at: order.length });
      order.push(id);
    }
    const lastOrder = this.last?.orders.get(list);
    if (!lastOrder) return [];
    const known = ids.map((id) => this.last!.placeIn(list, id)).filter((at) => at !== undefined);
    // Nothing is read before page 1; a final page that is not empty runs to the list's end.
    const after = pageNo === 1 ? -1 : known.length > 0 ? Math.min(...known) : undefined;
    const before = final && (ids.length > 0 || pageNo === 1) ? lastOrder.length : known.length > 0 ? Math.max(...known) : undefined;
    if (after === undefined || before === undefined || before <= after + 1) return [];
    const spans = this.spans.get(list) ?? [];
    this.spans.set(list, spans);
    spans.push([after, before]);
    return lastOrder.slice(after + 1, before).filter((id) => !this.places.has(id));
  }

  /** The list this reading shows the task in, if any. */
  listOf(id: string): string | undefined {
    return this.places.get(id)?.list;
  }

  /** Whether the last reading listed the task. */
  knew(id: string): boolean {
    return this.last?.places.has(id) ?? false;
  }

  /** Whether the task surely left the list it stood in last time: a page of that list was read across its place. */
  hasLeft(id: string): boolean {
    const place = this.last?.places.get(id);
    if (!place || this.places.has(id)) return false;
    return (this.spans.get(place.list) ?? []).some(([after, before]) => after < place.at && place.at < before);
  }

  private placeIn(list: string, id: string): number | undefined {
    const place = this.places.get(id);
    return place?.list === list ? place.at : undefined;
  }
}
