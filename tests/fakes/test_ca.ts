/**
 * A certificate authority made at test time with `openssl`, and a server certificate it signed
 * for `localhost` and `127.0.0.1`. TLS fakes serve the server certificate; the gateway trusts the
 * CA through `server.ca-file`.
 *
 * One CA per test process: the chrome transport's native TLS stack reads the extra CA once per
 * process (see `src/net/transport/ca.ts`), and `deno test --parallel` runs every test file in one
 * process, so every file must present the same CA. The files live in a folder named after the
 * process id, made once (atomically) by whichever file gets there first.
 *
 * @module
 */

/** The PEM files of the test CA. */
export interface TestCa {
  /** The CA certificate (what `server.ca-file` points at). */
  caFile: string;
  /** The CA certificate's PEM text. */
  caPem: string;
  /** The server certificate (PEM) for localhost and 127.0.0.1. */
  cert: string;
  /** Its private key (PEM). */
  key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function make(dir: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "3",
    "-subj",
    "/CN=gateway test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await openssl(
    ["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
    dir,
  );
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  ], dir);
}

async function load(dir: string): Promise<TestCa> {
  return {
    caFile: `${dir}/ca.pem`,
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
    cert: await Deno.readTextFile(`${dir}/server.pem`),
    key: await Deno.readTextFile(`${dir}/server.key`),
  };
}

/** The test process's CA, made on first use. */
export async function testCa(): Promise<TestCa> {
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const dir = `${tmp}/gateway-test-ca-${Deno.pid}`;
  try {
    return await load(dir);
  } catch {
    // Not made yet in this process.
  }
  const work = await Deno.makeTempDir({ prefix: "gateway-test-ca-work-" });
  await make(work);
  try {
    await Deno.rename(work, dir);
  } catch {
    // Another test file of this process made it first: use theirs.
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return await load(dir);
}
