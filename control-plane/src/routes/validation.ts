// zod validation at the edge, with one hook that shapes every failure as a 400 invalid_request.
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { invalidRequest } from "../body";

export const valid = <T extends keyof ValidationTargets, S extends z.ZodType>(target: T, schema: S) =>
  zValidator(target, schema, (result) => {
    if (!result.success)
      throw invalidRequest(result.error as unknown as z.ZodError, target === "param" ? "path" : target);
  });
