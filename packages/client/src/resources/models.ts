import type { ModelCatalog } from "@agentd/protocol";
import type { RequestOptions, Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";

export class Models {
  constructor(private readonly transport: Transport) {}

  /** The models this workspace can run, and the default one. */
  list(options?: RequestOptions): Promise<ModelCatalog> {
    return this.transport.json({ ...operations.listModels(), ...options });
  }
}
