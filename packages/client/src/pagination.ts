import { AgentdError } from "./errors.js";

/** What every cursor-paginated list answers: its items plus the cursor of the next page (null on the last). */
export interface CursorPage {
  nextCursor: string | null;
}

/**
 * What a list method returns (openai-node's page promise): `await` it for
 * the first page, or `for await` it for every item across all pages.
 *
 * Nothing is requested until one of the two starts, so an unused list costs
 * nothing and cannot reject unobserved. A further page is requested only when
 * the items before it are used up, so `break` stops fetching. Iterating again
 * starts over from the first page (reusing it if it was already awaited).
 */
export class PageList<Page extends CursorPage, Item> implements PromiseLike<Page>, AsyncIterable<Item> {
  #first: Promise<Page> | undefined;
  readonly #fetchPage: (cursor: string | undefined) => Promise<Page>;
  readonly #itemsOf: (page: Page) => readonly Item[];
  readonly #startCursor: string | undefined;

  /** @internal Made by list methods such as `runs.list`. */
  constructor(fetchPage: (cursor: string | undefined) => Promise<Page>, itemsOf: (page: Page) => readonly Item[], startCursor?: string) {
    this.#fetchPage = fetchPage;
    this.#itemsOf = itemsOf;
    this.#startCursor = startCursor;
  }

  then<A = Page, B = never>(
    onfulfilled?: ((page: Page) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#firstPage().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<Page | B> {
    return this.#firstPage().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<Page> {
    return this.#firstPage().finally(onfinally);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    let cursor = this.#startCursor;
    let page = await this.#firstPage();
    for (;;) {
      yield* this.#itemsOf(page);
      if (page.nextCursor === null) return;
      // A server that answers with the cursor it was sent would keep us paging forever.
      if (page.nextCursor === cursor) throw new AgentdError(`the server returned the same cursor twice (${cursor}); stopping`);
      cursor = page.nextCursor;
      page = await this.#fetchPage(cursor);
    }
  }

  #firstPage(): Promise<Page> {
    return (this.#first ??= this.#fetchPage(this.#startCursor));
  }
}
