// A binary min-heap of due times. The scheduler keeps every target's next run here and arms one
// clock timer for the earliest, instead of one timer per target.

interface Slot<T> {
  due: number;
  /** Insertion order: equal due times come out first in, first out. */
  order: number;
  value: T;
}

export class DueHeap<T> {
  private readonly slots: Slot<T>[] = [];
  private inserted = 0;

  get size(): number {
    return this.slots.length;
  }

  push(due: number, value: T): void {
    this.slots.push({ due, order: this.inserted++, value });
    this.siftUp(this.slots.length - 1);
  }

  /** The earliest entry, left in place. */
  peek(): { due: number; value: T } | undefined {
    return this.slots[0];
  }

  pop(): { due: number; value: T } | undefined {
    const top = this.slots[0];
    const last = this.slots.pop();
    if (top !== last && last) {
      this.slots[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private earlier(a: number, b: number): boolean {
    const x = this.slots[a]!;
    const y = this.slots[b]!;
    return x.due < y.due || (x.due === y.due && x.order < y.order);
  }

  private swap(a: number, b: number): void {
    const x = this.slots[a]!;
    this.slots[a] = this.slots[b]!;
    this.slots[b] = x;
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.earlier(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < this.slots.length && this.earlier(left, least)) least = left;
      if (right < this.slots.length && this.earlier(right, least)) least = right;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }
}
