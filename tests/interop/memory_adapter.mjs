// oidc-provider's storage adapter: in memory only, nothing is written to disk. One provider per
// process, so the store is module-level. (No device flow here, hence no findByUserCode.)

const storage = new Map(); // key -> { payload, expiresAt }
const grantIndex = new Map(); // grantId -> Set of keys

function get(key) {
  const entry = storage.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt && entry.expiresAt <= Date.now()) {
    storage.delete(key);
    return undefined;
  }
  return entry.payload;
}

export class MemoryAdapter {
  constructor(name) {
    this.name = name;
  }

  key(id) {
    return `${this.name}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    storage.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(key);
    }
    if (payload.uid) storage.set(`sessionUid:${payload.uid}`, { payload: id });
  }

  async find(id) {
    return get(this.key(id));
  }

  async findByUid(uid) {
    const id = get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    storage.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) || []) storage.delete(key);
    grantIndex.delete(grantId);
  }
}
