/**
 * Bundled in place of `postal-mime`, which the resend SDK imports at load time only for parsing *inbound*
 * mail (its receiving API, which this service never uses). Keeps ~70 KB of parser out of the Worker.
 */
export default {
  parse(): never {
    throw new Error("Parsing inbound mail is not part of this Worker's bundle.");
  },
};
