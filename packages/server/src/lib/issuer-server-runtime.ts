import type { Server as HttpServer } from "node:http";
import { Server as HttpsServer } from "node:https";
import { documentRequestPaths } from "@irsa-anywhere/discovery";
import { formatHostPort } from "../listen-address.js";
import type { IssuerDocuments } from "../prepare-documents.js";
import type { ServerLogger } from "../server-log.js";
import type { IssuerServer, ReloadOutcome, ServerLimits } from "../start-issuer-server.js";
import { createIssuerHttpServer, type ServedState } from "./issuer-http-server.js";
import { listen } from "./listen.js";
import type { DocumentLoader, LoadedDocuments } from "./load-documents.js";
import { OpenConnections } from "./open-connections.js";
import { type SingleFlight, singleFlight } from "./single-flight.js";
import { MAX_TIMER_MS } from "./timer-duration.js";
import { readTlsMaterial, secureContextOptions, type TlsMaterial } from "./tls-files.js";
import { watchFiles } from "./watch-files.js";

/** @internal How a server runs, once its options are checked. */
export interface RuntimeSettings {
  host: string;
  port: number;
  refreshIntervalMs: number;
  filePollIntervalMs: number;
  shutdownTimeoutMs: number;
}

/**
 * @internal Everything that changes while the server runs, in one place: the documents and TLS
 * material served, each reloaded one load at a time, and the shutdown. The wire
 * (`issuer-http-server.ts`) reads the documents from here on every request.
 */
export class IssuerServerRuntime implements ServedState {
  shuttingDown = false;
  private current: IssuerDocuments | undefined;
  private unloggedDocuments: LoadedDocuments | undefined;
  private tlsMaterial: TlsMaterial | undefined;
  private closing: Promise<void> | undefined;
  private readonly connections = new OpenConnections();
  private readonly background: Array<{ close(): void }> = [];
  private readonly documentsReload: SingleFlight<boolean>;
  private readonly tlsReload: SingleFlight<boolean> | undefined;
  private server: HttpServer | HttpsServer | undefined;

  constructor(
    private readonly issuer: string,
    private readonly loader: DocumentLoader,
    private readonly limits: ServerLimits,
    private readonly log: ServerLogger | undefined,
    private readonly tlsFiles: { certFile: string; keyFile: string } | undefined,
  ) {
    const stopped = () => this.shuttingDown;
    this.documentsReload = singleFlight(() => this.loadDocuments(), {
      onFailure: (error) =>
        this.log?.({ level: "warn", event: "documents-reload-failed", ...describeError(error) }),
      stopped,
    });
    this.tlsReload =
      tlsFiles &&
      singleFlight(() => this.loadTls(tlsFiles), {
        onFailure: (error) =>
          this.log?.({ level: "warn", event: "tls-reload-failed", ...describeError(error) }),
        stopped,
      });
  }

  get documents(): IssuerDocuments {
    if (!this.current) throw new Error("the documents are read before the server starts");
    return this.current;
  }

  async start(settings: RuntimeSettings): Promise<IssuerServer> {
    // Watch before the first read, so that a change made while it runs is not missed.
    this.watchSources(settings);
    try {
      if (this.tlsFiles) this.tlsMaterial = await readTlsMaterial(this.tlsFiles);
      await this.documentsReload.run();
      this.server = createIssuerHttpServer({
        state: this,
        limits: this.limits,
        tls: this.tlsMaterial,
        connections: this.connections,
        log: this.log,
      });
      await listen(this.server, settings.host, settings.port);
    } catch (error) {
      this.stopBackground();
      this.server?.close();
      throw error;
    }
    if (this.unloggedDocuments) this.logDocuments(this.unloggedDocuments);
    this.unloggedDocuments = undefined;
    const bound = this.server.address();
    if (bound === null || typeof bound === "string") throw new Error("the server has no TCP address");
    const address = { host: bound.address, port: bound.port };
    const url = `${this.tlsFiles ? "https" : "http"}://${formatHostPort(address.host, address.port)}`;
    const paths = documentRequestPaths(this.issuer);
    this.log?.({
      level: "info",
      event: "listening",
      url,
      issuer: this.issuer,
      paths: [paths.discovery, paths.jwks],
      tls: this.tlsFiles !== undefined,
    });
    const runtime = this;
    return {
      url,
      address,
      get documents() {
        return runtime.documents;
      },
      reload: () => this.reload(),
      close: (options) =>
        this.close(
          options?.timeoutMs === undefined
            ? settings.shutdownTimeoutMs
            : Math.min(Math.max(options.timeoutMs, 0), MAX_TIMER_MS),
        ),
    };
  }

  private watchSources(settings: RuntimeSettings): void {
    const reloadDocuments = this.documentsReload.trigger;
    if (this.loader.watchedFiles.length > 0) {
      this.background.push(
        watchFiles(this.loader.watchedFiles, reloadDocuments, { intervalMs: settings.filePollIntervalMs }),
      );
    }
    if (this.loader.watch) this.background.push(this.loader.watch(reloadDocuments));
    if (this.loader.watchedFiles.length === 0 && settings.refreshIntervalMs > 0) {
      const timer = setInterval(reloadDocuments, settings.refreshIntervalMs);
      timer.unref();
      this.background.push({ close: () => clearInterval(timer) });
    }
    if (this.tlsFiles && this.tlsReload) {
      this.background.push(
        watchFiles([this.tlsFiles.certFile, this.tlsFiles.keyFile], this.tlsReload.trigger, {
          intervalMs: settings.filePollIntervalMs,
        }),
      );
    }
  }

  private stopBackground(): void {
    for (const task of this.background.splice(0)) task.close();
  }

  private async reload(): Promise<ReloadOutcome> {
    const [documentsChanged, tlsChanged] = await Promise.all([
      this.documentsReload.run(),
      this.tlsReload?.run() ?? false,
    ]);
    return { documentsChanged, tlsChanged };
  }

  /** One load (run through `documentsReload`); the new documents replace the old in one assignment. */
  private async loadDocuments(): Promise<boolean> {
    if (this.shuttingDown) return false;
    const loaded = await this.loader.load();
    if (this.shuttingDown) return false;
    const before = this.current;
    const changed =
      before === undefined ||
      loaded.documents.jwks.etag !== before.jwks.etag ||
      loaded.documents.discovery.etag !== before.discovery.etag;
    if (!changed) return false;
    this.current = loaded.documents;
    // Before the server listens, the update is told once it does: a start that fails (a port in
    // use) then says so in one line, not after a line that suggests it started.
    if (this.server?.listening) this.logDocuments(loaded);
    else this.unloggedDocuments = loaded;
    return true;
  }

  /** One load (run through `tlsReload`); new handshakes use the new certificate. */
  private async loadTls(files: { certFile: string; keyFile: string }): Promise<boolean> {
    const server = this.server;
    if (this.shuttingDown || !(server instanceof HttpsServer)) return false;
    const material = await readTlsMaterial(files);
    if (this.shuttingDown) return false;
    if (material.cert === this.tlsMaterial?.cert && material.key === this.tlsMaterial.key) return false;
    // Connections already open keep their certificate.
    server.setSecureContext(secureContextOptions(material));
    this.tlsMaterial = material;
    this.log?.({ level: "info", event: "tls-reloaded" });
    return true;
  }

  private logDocuments(loaded: LoadedDocuments): void {
    this.log?.({
      level: "info",
      event: "documents-updated",
      kids: [...loaded.documents.kids],
      ...(loaded.keys ?? {}),
      etag: loaded.documents.jwks.etag,
    });
  }

  private close(timeoutMs: number): Promise<void> {
    this.closing ??= this.shutDown(timeoutMs);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    const server = this.server;
    this.shuttingDown = true;
    this.stopBackground();
    if (!server) return;
    this.log?.({ level: "info", event: "shutdown-started", openConnections: this.connections.size });
    const forcedConnections = await this.connections.drain(server, {
      timeoutMs,
      keepAliveTimeoutMs: this.limits.keepAliveTimeoutMs,
    });
    // A reload still in flight (a slow API server) is not waited for: its result is dropped.
    this.log?.({ level: "info", event: "shutdown-complete", forcedConnections });
  }
}

function describeError(error: unknown): { error: string; code?: string } {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return { error: message.split("\n")[0] ?? message, ...(typeof code === "string" ? { code } : {}) };
}
