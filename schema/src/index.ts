// mtor's shared contract, imported by the control plane (workerd) and the executor (Node).
export * from "./client";
export * from "./gates";
export * from "./glob";
export * from "./intent";
export * from "./signing";
export * from "./spec";
export * from "./wire";
