import type { Command } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import type { Report } from "../../playground/runner/report.js";
import { renderReportPage, renderSimulationPage } from "../../views/page.js";
import { isSimulationReport, ReportFormatError } from "../../views/simulation.js";
import { UsageError } from "../usage-error.js";

/** The page of a playground or `wva simulate` report (told apart by `cycles` or `policies`). */
export function reportPage(json: unknown): string {
  if (isSimulationReport(json)) return renderSimulationPage(json);
  const r = json as Partial<Report> | null;
  if (typeof r !== "object" || r === null || !Array.isArray(r.cycles))
    throw new ReportFormatError(
      "cycles: must be an array (a playground report), or policies: an array (a simulation report)",
    );
  if (!Array.isArray(r.models)) throw new ReportFormatError("models: must be an array");
  return renderReportPage(r as Report);
}

export function register(program: Command): void {
  const report = program.command("report").description("Work with playground and simulation reports");
  report
    .command("view")
    .description(
      "Render a playground report (wva playground --report) or a simulation report (wva simulate) as one " +
        "self-contained HTML page with charts that opens without network",
    )
    .argument("<report>", "the report (JSON)")
    .option("--out <file>", "write the page here (default: the report's path with .html)")
    .addHelpText("after", "\nExit status: 0 written, 2 unreadable or unknown report, 1 other failure.")
    .action((file: string, opts: { out?: string }) => {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, "utf8"));
      } catch (err) {
        throw new UsageError(`${file}: ${(err as Error).message}`);
      }
      let page: string;
      try {
        page = reportPage(json);
      } catch (err) {
        if (err instanceof ReportFormatError) throw new UsageError(`${file}: ${err.message}`);
        throw err;
      }
      const out = opts.out ?? `${file.replace(/\.json$/i, "")}.html`;
      writeFileSync(out, page);
      process.stdout.write(`wrote ${out}\n`);
    });
}
