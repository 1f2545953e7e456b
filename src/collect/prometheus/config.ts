import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import https from "node:https";
import http from "node:http";
import { isIP } from "node:net";
import { loadPrometheusConfig, readSetting } from "../../config/main.js";
import type { PrometheusSettings as LoadedPrometheusSettings } from "../../config/settings.js";

/** Connection settings of the Prometheus source. */
export interface PrometheusConfig {
  baseURL: string;
  insecureSkipVerify?: boolean;
  caCertPath?: string;
  clientCertPath?: string;
  clientKeyPath?: string;
  serverName?: string;
  bearerToken?: string;
  tokenPath?: string;
  /** Allow `http://` for a non-loopback host (env PROMETHEUS_ALLOW_HTTP=true). */
  allowHttp?: boolean;
}

export class PrometheusConfigError extends Error {}

/** Environment variables or main ConfigMap keys by name. */
export type SettingsMap = Record<string, string | undefined>;

/**
 * The source's config from the environment and the main ConfigMap's keys, read by the configuration
 * loader (all from the environment when it sets `PROMETHEUS_BASE_URL`, else all from the ConfigMap).
 * Throws ConfigFieldError when neither has a base URL.
 */
export function resolvePrometheusConfig(
  env: SettingsMap = process.env,
  configMap?: SettingsMap,
): PrometheusConfig {
  return fromLoadedSettings(
    loadPrometheusConfig({ env, configMap }),
    readSetting("prometheusAllowHttp", { env }),
  );
}

/** True for `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1";
  return false;
}

/**
 * Checks the settings: the URL must parse and use `https`, except for a loopback host or with
 * `allowHttp` (plain HTTP would send the bearer token and the metrics in clear text over the network);
 * TLS files must exist (unless verification is skipped) and the CA bundle must parse; client
 * certificate and key come together.
 */
export function validatePrometheusConfig(cfg: PrometheusConfig): void {
  let u: URL;
  try {
    u = new URL(cfg.baseURL);
  } catch {
    throw new PrometheusConfigError(`PROMETHEUS_BASE_URL: "${cfg.baseURL}" is not a valid URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new PrometheusConfigError(
      `PROMETHEUS_BASE_URL: scheme must be https, got "${u.protocol.replace(":", "")}"`,
    );
  }
  if (u.protocol === "http:" && !isLoopbackHost(u.hostname) && !cfg.allowHttp) {
    throw new PrometheusConfigError(
      `PROMETHEUS_BASE_URL: scheme must be https for the non-loopback host "${u.hostname}" (set PROMETHEUS_ALLOW_HTTP=true to allow plain http)`,
    );
  }
  if (!!cfg.clientCertPath !== !!cfg.clientKeyPath) {
    throw new PrometheusConfigError(
      "PROMETHEUS_CLIENT_CERT_PATH and PROMETHEUS_CLIENT_KEY_PATH must be set together (mutual TLS)",
    );
  }
  if (!cfg.insecureSkipVerify) {
    for (const [field, p] of [
      ["PROMETHEUS_CA_CERT_PATH", cfg.caCertPath],
      ["PROMETHEUS_CLIENT_CERT_PATH", cfg.clientCertPath],
      ["PROMETHEUS_CLIENT_KEY_PATH", cfg.clientKeyPath],
    ] as const) {
      if (p && !existsSync(p)) throw new PrometheusConfigError(`${field}: file "${p}" does not exist`);
    }
  }
  if (cfg.caCertPath && existsSync(cfg.caCertPath)) {
    try {
      new X509Certificate(readFileSync(cfg.caCertPath));
    } catch (e) {
      throw new PrometheusConfigError(
        `PROMETHEUS_CA_CERT_PATH: "${cfg.caCertPath}" holds no valid PEM certificate (${(e as Error).message})`,
      );
    }
  }
  if (cfg.tokenPath && !cfg.bearerToken && !existsSync(cfg.tokenPath)) {
    throw new PrometheusConfigError(`PROMETHEUS_TOKEN_PATH: file "${cfg.tokenPath}" does not exist`);
  }
}

/** The bearer token: the direct token, else the token file's content (read once, trimmed). */
export function resolveBearerToken(cfg: PrometheusConfig): string | undefined {
  if (cfg.bearerToken) return cfg.bearerToken;
  if (cfg.tokenPath) return readFileSync(cfg.tokenPath, "utf8").trim() || undefined;
  return undefined;
}

/** The HTTP(S) agent: TLS >= 1.2, CA bundle, client certificate (mTLS), server name, keep-alive. */
export function createAgent(cfg: PrometheusConfig): http.Agent | https.Agent {
  const u = new URL(cfg.baseURL);
  if (u.protocol === "http:") return new http.Agent({ keepAlive: true, maxSockets: 64 });
  return new https.Agent({
    keepAlive: true,
    maxSockets: 64,
    minVersion: "TLSv1.2",
    rejectUnauthorized: !cfg.insecureSkipVerify,
    ca: cfg.caCertPath ? readFileSync(cfg.caCertPath) : undefined,
    cert: cfg.clientCertPath ? readFileSync(cfg.clientCertPath) : undefined,
    key: cfg.clientKeyPath ? readFileSync(cfg.clientKeyPath) : undefined,
    servername: cfg.serverName,
  });
}

/** Converts settings loaded by the configuration module into this source's config. */
export function fromLoadedSettings(s: LoadedPrometheusSettings, allowHttp = false): PrometheusConfig {
  return {
    baseURL: s.baseURL,
    insecureSkipVerify: s.tlsInsecureSkipVerify,
    caCertPath: s.caCertPath || undefined,
    clientCertPath: s.clientCertPath || undefined,
    clientKeyPath: s.clientKeyPath || undefined,
    serverName: s.serverName || undefined,
    bearerToken: s.bearerToken || undefined,
    tokenPath: s.tokenPath || undefined,
    allowHttp,
  };
}
