// Which way one revision is scraped (spec §3.2, config-network `mesh-compatibility-mode`):
// pod by pod, or through the private service when a mesh sidecar stands in the way. In `auto`
// a revision starts with pod scraping; when not a single pod answers and every failure looked
// like a mesh (502/503), it tries the service, and once that works it stays on the service.
import type { MeshCompatibilityMode } from '../config/network.ts';
import { childName } from '../config/k8s-names.ts';
import type { PodScraper, ScrapePod, ScrapeResult, ScrapeService } from './scraper.ts';

export type ScrapeVia = 'pods' | 'service';

export interface RouteOptions {
  readonly mode: MeshCompatibilityMode;
  /** config-network `enable-mesh-pod-addressability`: pod scrapes carry the service Host and never fall back. */
  readonly passthroughLb: boolean;
}

/** `<rev>-private.<ns>`, the private service of revision `namespace/name`. */
export function privateServiceOf(key: string): ScrapeService {
  const slash = key.indexOf('/');
  return { host: `${childName(key.slice(slash + 1), '-private')}.${key.slice(0, slash)}` };
}

export class ScrapeRoute {
  readonly #o: RouteOptions;
  #podsAddressable = true;

  constructor(options: RouteOptions) {
    this.#o = options;
  }

  /** Where the next scrape goes first. */
  get via(): ScrapeVia {
    if (this.#o.mode === 'enabled') return 'service';
    if (this.#o.mode === 'disabled' || this.#o.passthroughLb) return 'pods';
    return this.#podsAddressable ? 'pods' : 'service';
  }

  async scrape(scraper: PodScraper, pods: readonly ScrapePod[], service: ScrapeService, stableWindowMs: number, nowMs: number): Promise<ScrapeResult & { readonly via: ScrapeVia }> {
    const passthrough = this.#o.passthroughLb ? service : undefined;
    if (this.via === 'pods') {
      const r = await scraper.scrape(pods, stableWindowMs, nowMs, passthrough);
      const fallBack = this.#o.mode === 'auto' && !this.#o.passthroughLb && !r.ok && r.reason === 'no-pods-scraped' && r.mightBeMesh;
      if (!fallBack) return { ...r, via: 'pods' };
    }
    const r = await scraper.scrapeService(service, pods.length, stableWindowMs);
    // The pods were unreachable but the service worked: a mesh. Stop trying the pods.
    if (r.ok && this.#o.mode === 'auto') this.#podsAddressable = false;
    return { ...r, via: 'service' };
  }
}
