import {
  AgentInfo,
  AgentRevisionInfo,
  AgentTagInfo,
  CreateAgentRequest,
  CreateAgentResponse,
  CreateAgentRevisionRequest,
  CreateAgentRevisionResponse,
  LIST_AGENTS_LIMIT,
  ListAgentRevisionsResponse,
  ListAgentsQuery,
  ListAgentsResponse,
  ListAgentTagsResponse,
  PutAgentTagRequest,
} from "../agents.js";
import { OkResponse } from "../runs.js";
import { API_PREFIX } from "../wire.js";
import { IDEMPOTENCY_KEY } from "./headers.js";
import { defineRoute, type QueryParameter } from "./route.js";

/* The agents registry (issue #11): docs/agents.md. */

const AGENTS = `${API_PREFIX}/{workspace}/agents`;
const AGENT = `${AGENTS}/{agentId}`;
const TAGS = `${API_PREFIX}/{workspace}/agent-tags`;
const TAG = `${TAGS}/{tag}`;

/** Both listings' parameters, in ListAgentsQuery's order. */
const pageParameters: QueryParameter[] = [
  {
    name: "limit",
    description: "Items per page",
    schema: { type: "integer", minimum: 1, maximum: LIST_AGENTS_LIMIT.max, default: LIST_AGENTS_LIMIT.default },
  },
  { name: "cursor", description: "A previous page's `nextCursor` (opaque)", schema: { type: "string" } },
];

export const agentRoutes = {
  createAgent: defineRoute({
    operationId: "createAgent",
    method: "POST",
    path: AGENTS,
    summary: "Create an agent with its revision 1",
    tag: "agents",
    auth: "key",
    scope: "agents:write",
    headers: [IDEMPOTENCY_KEY],
    body: { schema: CreateAgentRequest, required: true },
    responses: { 201: { description: "Created", schema: CreateAgentResponse } },
    // 409: the id is taken (a registry agent, deleted or not, or a config agent).
    errors: [409],
  }),
  listAgents: defineRoute({
    operationId: "listAgents",
    method: "GET",
    path: AGENTS,
    summary: "List agents, newest first (config agents on the first page)",
    tag: "agents",
    auth: "key",
    scope: "agents:read",
    query: { parameters: pageParameters, schema: ListAgentsQuery },
    responses: { 200: { description: "One page of agents", schema: ListAgentsResponse } },
  }),
  getAgent: defineRoute({
    operationId: "getAgent",
    method: "GET",
    path: AGENT,
    summary: "An agent's current definition, latest revision and tags",
    tag: "agents",
    auth: "key",
    scope: "agents:read",
    responses: { 200: { description: "Agent", schema: AgentInfo } },
    errors: [404],
  }),
  deleteAgent: defineRoute({
    operationId: "deleteAgent",
    method: "DELETE",
    path: AGENT,
    summary: "Delete an agent and its tags (finished runs stay readable)",
    tag: "agents",
    auth: "key",
    scope: "agents:write",
    responses: { 200: { description: "OK", schema: OkResponse } },
    errors: [404, 409],
  }),
  createAgentRevision: defineRoute({
    operationId: "createAgentRevision",
    method: "POST",
    path: `${AGENT}/revisions`,
    summary: "Add the next immutable revision",
    tag: "agents",
    auth: "key",
    scope: "agents:write",
    // A retry of a lost reply must not add a second revision (the SDK sends a key with every POST).
    headers: [IDEMPOTENCY_KEY],
    body: { schema: CreateAgentRevisionRequest, required: true },
    responses: { 201: { description: "Created", schema: CreateAgentRevisionResponse } },
    errors: [404, 409],
  }),
  listAgentRevisions: defineRoute({
    operationId: "listAgentRevisions",
    method: "GET",
    path: `${AGENT}/revisions`,
    summary: "List an agent's revisions, newest first",
    tag: "agents",
    auth: "key",
    scope: "agents:read",
    query: { parameters: pageParameters, schema: ListAgentsQuery },
    responses: { 200: { description: "One page of revisions", schema: ListAgentRevisionsResponse } },
    // 409: a config agent (it has no revisions).
    errors: [404, 409],
  }),
  getAgentRevision: defineRoute({
    operationId: "getAgentRevision",
    method: "GET",
    path: `${AGENT}/revisions/{revision}`,
    summary: "One revision of an agent",
    tag: "agents",
    auth: "key",
    scope: "agents:read",
    responses: { 200: { description: "Revision", schema: AgentRevisionInfo } },
    // 409: a config agent (it has no revisions).
    errors: [404, 409],
  }),
  listAgentTags: defineRoute({
    operationId: "listAgentTags",
    method: "GET",
    path: TAGS,
    summary: "List the workspace's agent tags",
    tag: "agents",
    auth: "key",
    scope: "agents:read",
    responses: { 200: { description: "Tags", schema: ListAgentTagsResponse } },
  }),
  putAgentTag: defineRoute({
    operationId: "putAgentTag",
    method: "PUT",
    path: TAG,
    summary: "Point a tag at a revision (one atomic change)",
    tag: "agents",
    auth: "key",
    scope: "agents:write",
    body: { schema: PutAgentTagRequest, required: true },
    responses: { 200: { description: "Tag", schema: AgentTagInfo } },
    // 409: a config agent (it has no revisions).
    errors: [404, 409],
  }),
  deleteAgentTag: defineRoute({
    operationId: "deleteAgentTag",
    method: "DELETE",
    path: TAG,
    summary: "Delete a tag",
    tag: "agents",
    auth: "key",
    scope: "agents:write",
    responses: { 200: { description: "OK", schema: OkResponse } },
    errors: [404],
  }),
} as const;
