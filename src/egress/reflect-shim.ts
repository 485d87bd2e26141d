/**
 * The few `Reflect` metadata functions that `tsyringe` (a dependency of
 * `@peculiar/x509`) checks for at load time and uses for its decorators.
 * Installed only when absent, in the process that loads x509 (the proxy), so
 * no `reflect-metadata` dependency is needed. Metadata lives in a WeakMap per
 * target; `getMetadata` walks the prototype chain like the real polyfill.
 */
type Store = Map<unknown, unknown>;

interface MetadataReflect {
  getMetadata?: (key: unknown, target: object) => unknown;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
  hasMetadata?: (key: unknown, target: object) => boolean;
  metadata?: (key: unknown, value: unknown) => (target: object) => void;
}

export function installReflectMetadata(): void {
  const r = Reflect as unknown as MetadataReflect;
  if (typeof r.getMetadata === 'function') return;
  const stores = new WeakMap<object, Store>();
  const own = (target: object, key: unknown): unknown => stores.get(target)?.get(key);
  const get = (key: unknown, target: object): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const s = stores.get(t);
      if (s?.has(key) === true) return s.get(key);
    }
    return undefined;
  };
  const define = (key: unknown, value: unknown, target: object): void => {
    let s = stores.get(target);
    if (s === undefined) {
      s = new Map();
      stores.set(target, s);
    }
    s.set(key, value);
  };
  r.getMetadata = get;
  r.getOwnMetadata = (key, target) => own(target, key);
  r.defineMetadata = define;
  r.hasMetadata = (key, target) => get(key, target) !== undefined;
  r.metadata = (key, value) => (target) => define(key, value, target);
}
