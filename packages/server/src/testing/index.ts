export { startFakeProvider, type FakeProvider, type FakeProviderOptions, type FakeReply, type FakeRequest, type FakeScript } from "./fake-provider.js";
export { registryOf, scriptedModel, type ReplyScript, type ScriptedModel, type ScriptedReply } from "./scripted-model.js";
