// A local imitation of the Hugging Face Hub endpoints that @huggingface/hub 2.17.5's createRepo and uploadFiles call
// (read in node_modules/@huggingface/hub/src/lib/create-repo.ts and commit.ts), so scripts/push_to_hub.ts is tested
// offline through the official client:
//   POST /api/repos/create                               → 200 {url, name, id}, or 409 when the repo exists
//   POST /api/{type}s/{org}/{name}/preupload/{rev}       → which files go through LFS ("lfs") or inline ("regular")
//   POST /{type}s/{org}/{name}.git/info/lfs/objects/batch → basic transfer: an upload href per object not yet stored
//   PUT  /lfs-upload/{oid}                               → the object's bytes (sha256 checked against the oid)
//   POST /api/{type}s/{org}/{name}/commit/{rev}          → ndjson: header, then file (base64) / lfsFile (oid) lines
// Every request must carry `Authorization: Bearer <token>` (the LFS upload href excepted, as on the Hub).
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRequest {
  method: string;
  path: string;
  authorized: boolean;
}

export interface HubImitation {
  url: string;
  /** Files of each repository ("datasets/org/name") after the commits so far. */
  repos: Map<string, Map<string, Buffer>>;
  requests: HubRequest[];
  /** Objects received through the LFS basic transfer, by sha256. */
  lfsObjects: Map<string, Buffer>;
  close(): Promise<void>;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** Starts the imitation on a free port; only `token` is accepted. Binary files (the parquet) go through LFS. */
export async function startHubImitation(options: { token: string }): Promise<HubImitation> {
  const repos = new Map<string, Map<string, Buffer>>();
  const requests: HubRequest[] = [];
  const lfsObjects = new Map<string, Buffer>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const authorized = req.headers.authorization === `Bearer ${options.token}`;
    requests.push({ method: req.method ?? '', path, authorized });
    const base = `http://${req.headers.host}`;

    const upload = path.match(/^\/lfs-upload\/([0-9a-f]{64})$/);
    if (req.method === 'PUT' && upload) {
      if (createHash('sha256').update(body).digest('hex') !== upload[1])
        return json(res, 400, { error: 'sha256 does not match the oid' });
      lfsObjects.set(upload[1]!, body);
      res.writeHead(200).end();
      return;
    }
    if (!authorized) return json(res, 401, { error: 'Invalid credentials in Authorization header' });

    if (req.method === 'POST' && path === '/api/repos/create') {
      const { name, organization, type } = JSON.parse(body.toString('utf8')) as {
        name: string;
        organization: string;
        type: string;
      };
      const id = `${type}s/${organization}/${name}`;
      if (repos.has(id))
        return json(res, 409, { error: `You already created this ${type} repo`, url: `${base}/${id}` });
      repos.set(id, new Map());
      return json(res, 200, { url: `${base}/${id}`, name: `${organization}/${name}`, id: `${organization}/${name}` });
    }
    const preupload = path.match(/^\/api\/(datasets|models|spaces)\/([^/]+\/[^/]+)\/preupload\/[^/]+$/);
    if (req.method === 'POST' && preupload) {
      if (!repos.has(`${preupload[1]}/${preupload[2]}`)) return json(res, 404, { error: 'Repository not found' });
      const { files } = JSON.parse(body.toString('utf8')) as { files: Array<{ path: string }> };
      return json(res, 200, {
        files: files.map((f) => ({ path: f.path, uploadMode: f.path.endsWith('.parquet') ? 'lfs' : 'regular' })),
      });
    }
    const batch = path.match(/^\/(datasets|spaces)?\/?([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/);
    if (req.method === 'POST' && batch) {
      const { objects, transfers } = JSON.parse(body.toString('utf8')) as {
        objects: Array<{ oid: string; size: number }>;
        transfers?: string[];
      };
      // The Hub answers "xet" to a client that offers it; the imitation has no Xet storage, so it refuses instead.
      if (transfers?.includes('xet'))
        return json(res, 400, {
          error: 'the imitation has no Xet storage: upload with useXet: false (Git LFS, basic transfer)',
        });
      return json(res, 200, {
        transfer: 'basic',
        objects: objects.map((o) =>
          lfsObjects.has(o.oid)
            ? { oid: o.oid, size: o.size }
            : {
                oid: o.oid,
                size: o.size,
                authenticated: true,
                actions: { upload: { href: `${base}/lfs-upload/${o.oid}` } },
              },
        ),
      });
    }
    const commit = path.match(/^\/api\/(datasets|models|spaces)\/([^/]+\/[^/]+)\/commit\/[^/]+$/);
    if (req.method === 'POST' && commit) {
      const files = repos.get(`${commit[1]}/${commit[2]}`);
      if (!files) return json(res, 404, { error: 'Repository not found' });
      const next = new Map(files);
      for (const line of body.toString('utf8').split('\n').filter(Boolean)) {
        const { key, value } = JSON.parse(line) as {
          key: string;
          value: { path: string; content?: string; encoding?: string; oid?: string };
        };
        if (key === 'file')
          next.set(value.path, Buffer.from(value.content ?? '', value.encoding === 'base64' ? 'base64' : 'utf8'));
        else if (key === 'lfsFile') {
          const object = lfsObjects.get(value.oid ?? '');
          if (!object) return json(res, 422, { error: `LFS object ${value.oid} for ${value.path} was never uploaded` });
          next.set(value.path, object);
        } else if (key === 'deletedFile') next.delete(value.path);
        else if (key !== 'header') return json(res, 400, { error: `unknown commit line key ${key}` });
      }
      repos.set(`${commit[1]}/${commit[2]}`, next);
      const oid = createHash('sha1').update(body).digest('hex');
      return json(res, 200, {
        success: true,
        commitOid: oid,
        commitUrl: `${base}/${commit[1]}/${commit[2]}/commit/${oid}`,
      });
    }
    json(res, 404, { error: `the imitation has no ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    repos,
    requests,
    lfsObjects,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
