// UsageError lives with the configuration errors so that the configuration code does not import the CLI.
export { UsageError } from "../config/errors.js";
