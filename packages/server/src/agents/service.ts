import {
  AgentTagName,
  RegistryAgentId,
  type AgentDefinition,
  type AgentDefinitionBody,
  type AgentInfo,
  type AgentRevisionInfo,
  type AgentTagInfo,
  type CreateAgentRequest,
  type CreateAgentResponse,
  type CreateAgentRevisionResponse,
  type ListAgentRevisionsResponse,
  type ListAgentsQuery,
  type ListAgentsResponse,
  type PutAgentTagRequest,
} from "@agentd/protocol";
import { AgentdError, invalidRequest, notFound } from "../errors.js";
import { decodeCursor, encodeCursor } from "../runs/cursor.js";
import type { AgentRecord, AgentRevisionRecord, AgentTagRecord, Store, WorkspaceRecord } from "../store/types.js";

export interface AgentServiceDeps {
  store: Store;
  /** The config file's agents: listed as `source: "config"`, never written. */
  configAgents: Record<string, AgentDefinition>;
  /**
   * Refuses a definition a run could not execute (unknown model, a tool
   * reading the server's secrets, an output schema that does not compile),
   * so a bad revision is a 400 when it is written, not when a tag run fails.
   */
  validateDefinition(definition: AgentDefinitionBody): void;
}

/** The agents registry (issue #11): what the routes call. */
export class AgentService {
  constructor(private readonly deps: AgentServiceDeps) {}

  async create(workspace: WorkspaceRecord, body: CreateAgentRequest): Promise<CreateAgentResponse> {
    const { id, name, description, ...definition } = body;
    this.refuseConfigAgent(id);
    this.deps.validateDefinition(definition);
    const now = new Date().toISOString();
    const record: AgentRecord = {
      workspaceId: workspace.id,
      id,
      name: name ?? null,
      description: description ?? null,
      latestRevision: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    await this.deps.store.createAgent(record, definition);
    return { ...registryInfo(record, definition, []), revision: 1 };
  }

  async get(workspace: WorkspaceRecord, agentId: string): Promise<AgentInfo> {
    const config = this.configAgent(agentId);
    if (config !== undefined) return config;
    const agent = await this.liveAgent(workspace, agentId);
    const [revision, tags] = await Promise.all([
      this.deps.store.getAgentRevision(workspace.id, agent.id, agent.latestRevision),
      this.deps.store.listAgentTags(workspace.id, agent.id),
    ]);
    return registryInfo(agent, revision?.definition ?? {}, tags);
  }

  /** Newest first; the config's agents (a handful, from a file) lead the first page, outside its `limit`. */
  async list(workspace: WorkspaceRecord, query: ListAgentsQuery): Promise<ListAgentsResponse> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.deps.store.listAgents(workspace.id, { limit: query.limit + 1, ...(after ? { after } : {}) });
    const page = rows.slice(0, query.limit);
    const tags = page.length === 0 ? [] : await this.deps.store.listAgentTags(workspace.id);
    const registry = page.map(({ definition, ...agent }) =>
      registryInfo(
        agent,
        definition,
        tags.filter((tag) => tag.agentId === agent.id),
      ),
    );
    const config = after === undefined ? Object.keys(this.deps.configAgents).map((id) => this.configAgent(id)!) : [];
    const last = page.at(-1);
    return { agents: [...config, ...registry], nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  async addRevision(workspace: WorkspaceRecord, agentId: string, definition: AgentDefinitionBody): Promise<CreateAgentRevisionResponse> {
    this.refuseConfigAgent(agentId);
    checkId(agentId);
    this.deps.validateDefinition(definition);
    const added = await this.deps.store.addAgentRevision(workspace.id, agentId, definition, new Date().toISOString());
    return { agentId, revision: added.revision };
  }

  async revision(workspace: WorkspaceRecord, agentId: string, revisionParam: string): Promise<AgentRevisionInfo> {
    this.refuseConfigAgent(agentId);
    checkId(agentId);
    const number = parseRevision(revisionParam);
    await this.liveAgent(workspace, agentId);
    const found = await this.deps.store.getAgentRevision(workspace.id, agentId, number);
    if (found === undefined) throw notFound(`revision ${number} of agent ${agentId}`);
    return revisionInfo(found);
  }

  async revisions(workspace: WorkspaceRecord, agentId: string, query: ListAgentsQuery): Promise<ListAgentRevisionsResponse> {
    this.refuseConfigAgent(agentId);
    await this.liveAgent(workspace, agentId);
    const before = query.cursor === undefined ? undefined : decodeRevisionCursor(query.cursor);
    const rows = await this.deps.store.listAgentRevisions(workspace.id, agentId, {
      limit: query.limit + 1,
      ...(before !== undefined ? { before } : {}),
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      revisions: page.map(revisionInfo),
      nextCursor: rows.length > query.limit && last ? Buffer.from(`r${last.revision}`).toString("base64url") : null,
    };
  }

  async delete(workspace: WorkspaceRecord, agentId: string): Promise<void> {
    this.refuseConfigAgent(agentId);
    checkId(agentId);
    if (!(await this.deps.store.deleteAgent(workspace.id, agentId, new Date().toISOString()))) throw notFound(`agent ${agentId}`);
  }

  async putTag(workspace: WorkspaceRecord, tag: string, body: PutAgentTagRequest): Promise<AgentTagInfo> {
    checkTag(tag);
    this.refuseConfigAgent(body.agentId, "agentId");
    const stored = await this.deps.store.putAgentTag({
      workspaceId: workspace.id,
      tag,
      agentId: body.agentId,
      revision: body.revision,
      updatedAt: new Date().toISOString(),
    });
    return tagInfo(stored);
  }

  async tags(workspace: WorkspaceRecord): Promise<AgentTagInfo[]> {
    return (await this.deps.store.listAgentTags(workspace.id)).map(tagInfo);
  }

  async deleteTag(workspace: WorkspaceRecord, tag: string): Promise<void> {
    checkTag(tag);
    if (!(await this.deps.store.deleteAgentTag(workspace.id, tag))) throw notFound(`tag ${tag}`);
  }

  private async liveAgent(workspace: WorkspaceRecord, agentId: string): Promise<AgentRecord> {
    checkId(agentId);
    const agent = await this.deps.store.getAgent(workspace.id, agentId);
    if (agent === undefined) throw notFound(`agent ${agentId}`);
    return agent;
  }

  private configAgent(id: string): AgentInfo | undefined {
    const agent = Object.hasOwn(this.deps.configAgents, id) ? this.deps.configAgents[id] : undefined;
    if (agent === undefined) return undefined;
    const { name, description, ...definition } = agent;
    return {
      id,
      source: "config",
      name: name ?? null,
      description: description ?? null,
      latestRevision: null,
      definition,
      tags: [],
      createdAt: null,
      updatedAt: null,
    };
  }

  private refuseConfigAgent(id: string, field = "agentId"): void {
    if (Object.hasOwn(this.deps.configAgents, id)) {
      throw new AgentdError("conflict", `${field}: agent '${id}' is defined in the server config and is read-only`, {
        issues: [{ path: field, message: "a config agent is read-only: change it in agentd.config.*" }],
      });
    }
  }
}

function registryInfo(agent: AgentRecord, definition: Record<string, unknown>, tags: AgentTagRecord[]): AgentInfo {
  return {
    id: agent.id,
    source: "registry",
    name: agent.name,
    description: agent.description,
    latestRevision: agent.latestRevision,
    definition,
    tags: tags.map(({ tag, revision }) => ({ tag, revision })),
    createdAt: agent.createdAt,
    updatedAt: agent.updatedAt,
  };
}

const revisionInfo = ({ agentId, revision, definition, createdAt }: AgentRevisionRecord): AgentRevisionInfo => ({
  agentId,
  revision,
  definition,
  createdAt,
});

const tagInfo = ({ tag, agentId, revision, updatedAt }: AgentTagRecord): AgentTagInfo => ({ tag, agentId, revision, updatedAt });

/** A path's agent id, held to the body's rule so a bad one is a 400 naming it, not a lookup. */
function checkId(agentId: string): void {
  const parsed = RegistryAgentId.safeParse(agentId);
  if (!parsed.success) throw invalidRequest("agentId", parsed.error.issues[0]?.message ?? "invalid");
}

function checkTag(tag: string): void {
  const parsed = AgentTagName.safeParse(tag);
  if (!parsed.success) throw invalidRequest("tag", parsed.error.issues[0]?.message ?? "invalid");
}

/** `{revision}` of a path: a positive integer in decimal. */
export function parseRevision(value: string): number {
  const number = /^[1-9]\d{0,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= 1 && number <= 2_147_483_647)) throw invalidRequest("revision", "must be a positive integer");
  return number;
}

function decodeRevisionCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const number = /^r[1-9]\d{0,9}$/.test(text) ? Number(text.slice(1)) : Number.NaN;
  if (!(number >= 1 && number <= 2_147_483_647) || Buffer.from(text).toString("base64url") !== cursor) {
    throw invalidRequest("cursor", "malformed (pass a previous page's nextCursor unchanged)");
  }
  return number;
}
