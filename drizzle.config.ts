// drizzle-kit: the Fleet's tables live in schema/, migrations land in control-plane/drizzle.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  schema: "./schema/src/tables/*.ts",
  out: "./control-plane/drizzle",
  dialect: "sqlite",
  driver: "durable-sqlite",
});
