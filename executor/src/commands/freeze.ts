// `mtor freeze [PROVIDER]` / `mtor thaw [PROVIDER]`: stop or resume new claims, fleet-wide or
// for one provider. Running work goes on; dispatch is still accepted.
import { seg } from "../http/client";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";

function switchCommand(io: Io, verb: "freeze" | "thaw") {
  const what = verb === "freeze" ? "stop new claims" : "resume new claims";
  return apiCommand(verb, `${what}, fleet-wide or for one provider`)
    .argument("[provider]", "a provider name; without it, the whole fleet")
    .action(
      apiAction(io, async (ctx, provider: string | undefined) => {
        const path = provider ? `/v1/providers/${seg(provider)}/${verb}` : `/v1/${verb}`;
        const res = await ctx.client.post(path, {});
        if (ctx.json) return ctx.printJson(res ?? { frozen: verb === "freeze" });
        const subject = provider ? `provider ${provider}` : "fleet";
        ctx.io.out(
          verb === "freeze"
            ? `${subject} frozen: no new claims; running work goes on, dispatch is still accepted`
            : `${subject} thawed: claims resume`,
        );
      }),
    );
}

export const freezeCommand = (io: Io) => switchCommand(io, "freeze");
export const thawCommand = (io: Io) => switchCommand(io, "thaw");
