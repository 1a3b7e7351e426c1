// Things in order of their last activity, oldest first: touching one moves it to the back, so the
// one to expire next is always at the front. Every operation is a few pointer writes and allocates
// nothing, which is what a per-datagram touch needs; one timer for the front replaces a timer each.

export interface IdleNode {
  lastActive: number;
  idlePrev: IdleNode | undefined;
  idleNext: IdleNode | undefined;
  /** Whether the node is in a list now. */
  listed: boolean;
}

export class IdleList<T extends IdleNode> {
  private head: T | undefined;
  private tail: T | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The node idle the longest. */
  first(): T | undefined {
    return this.head;
  }

  /** Adds a node at the back, or moves it there: it was active at `now`. */
  touch(node: T, now: number): void {
    node.lastActive = now;
    if (node.listed && node === this.tail) return;
    if (node.listed) this.unlink(node);
    node.idlePrev = this.tail;
    node.idleNext = undefined;
    if (this.tail) this.tail.idleNext = node;
    else this.head = node;
    this.tail = node;
    node.listed = true;
    this.count++;
  }

  remove(node: T): void {
    if (node.listed) this.unlink(node);
  }

  private unlink(node: T): void {
    const prev = node.idlePrev as T | undefined;
    const next = node.idleNext as T | undefined;
    if (prev) prev.idleNext = next;
    else this.head = next;
    if (next) next.idlePrev = prev;
    else this.tail = prev;
    node.idlePrev = undefined;
    node.idleNext = undefined;
    node.listed = false;
    this.count--;
  }
}
