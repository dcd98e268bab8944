import type {
  AgentDefinitionBody,
  AgentInfo,
  AgentRevisionInfo,
  AgentTagInfo,
  CreateAgentRequest,
  CreateAgentResponse,
  CreateAgentRevisionResponse,
  ListAgentRevisionsResponse,
  ListAgentsResponse,
  ListAgentTagsResponse,
} from "@agentd/protocol";
import type { RequestOptions, Transport } from "../internal/request.js";
import { operations } from "../internal/routes.js";
import { PageList } from "../pagination.js";

/**
 * The agents registry (issue #11): agents, their immutable revisions and the
 * tags naming them. Run one with `agents.run({ tag })` or
 * `agents.run({ agentId, revision })`.
 */
export class AgentRegistry {
  constructor(private readonly transport: Transport) {}

  /** Creates an agent at revision 1; ConflictError when the id is taken. */
  create(params: CreateAgentRequest, options?: RequestOptions): Promise<CreateAgentResponse> {
    return this.transport.json({ ...operations.createAgent(), body: params, ...options });
  }

  get(agentId: string, options?: RequestOptions): Promise<AgentInfo> {
    return this.transport.json({ ...operations.getAgent(agentId), ...options });
  }

  /** Agents newest first (config agents on the first page): `await` for a page, `for await` for every agent. */
  list(params: { limit?: number } = {}, options?: RequestOptions): PageList<ListAgentsResponse, AgentInfo> {
    return new PageList(
      (next) =>
        this.transport.json<ListAgentsResponse>({ ...operations.listAgents(), query: { limit: params.limit, cursor: next }, ...options }),
      (page) => page.agents,
    );
  }

  async delete(agentId: string, options?: RequestOptions): Promise<void> {
    await this.transport.json({ ...operations.deleteAgent(agentId), ...options });
  }

  /** Adds the next immutable revision. */
  addRevision(agentId: string, definition: AgentDefinitionBody, options?: RequestOptions): Promise<CreateAgentRevisionResponse> {
    return this.transport.json({ ...operations.createAgentRevision(agentId), body: definition, ...options });
  }

  getRevision(agentId: string, revision: number, options?: RequestOptions): Promise<AgentRevisionInfo> {
    return this.transport.json({ ...operations.getAgentRevision(agentId, String(revision)), ...options });
  }

  listRevisions(
    agentId: string,
    params: { limit?: number } = {},
    options?: RequestOptions,
  ): PageList<ListAgentRevisionsResponse, AgentRevisionInfo> {
    return new PageList(
      (next) =>
        this.transport.json<ListAgentRevisionsResponse>({
          ...operations.listAgentRevisions(agentId),
          query: { limit: params.limit, cursor: next },
          ...options,
        }),
      (page) => page.revisions,
    );
  }

  /** Points a tag at a revision (one atomic change). */
  putTag(tag: string, target: { agentId: string; revision: number }, options?: RequestOptions): Promise<AgentTagInfo> {
    return this.transport.json({ ...operations.putAgentTag(tag), body: target, ...options });
  }

  async listTags(options?: RequestOptions): Promise<AgentTagInfo[]> {
    return (await this.transport.json<ListAgentTagsResponse>({ ...operations.listAgentTags(), ...options })).tags;
  }

  async deleteTag(tag: string, options?: RequestOptions): Promise<void> {
    await this.transport.json({ ...operations.deleteAgentTag(tag), ...options });
  }
}
