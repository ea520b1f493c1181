import { InvalidArgumentError } from '../../core/errors.js';
import { isScope, SCOPES, type Scope } from '../../store/index.js';

/**
 * Sibyl's four key scopes, and how Clarifai's scope strings map onto them (so a key request from a
 * Clarifai client means what it says):
 *
 * | Clarifai scope                                  | Sibyl scope |
 * |-------------------------------------------------|-------------|
 * | `Predict`, `Outputs:Add`, `Outputs:*`           | predict     |
 * | `<Resource>:Get`, `<Resource>:List`             | read        |
 * | `<Resource>:Add`, `:Patch`, `:Delete`, `:Post`  | write       |
 * | `Admin`, `Users:Add`                            | admin       |
 * | `All`, `*`                                      | all four    |
 *
 * Sibyl's own names (`predict`, `read`, `write`, `admin`) are accepted as they are.
 */
export function parseScopes(list: readonly string[]): Scope[] {
  const out = new Set<Scope>();
  for (const raw of list) {
    const s = raw.trim();
    const lower = s.toLowerCase();
    if (isScope(lower)) out.add(lower);
    else if (lower === 'all' || lower === '*') SCOPES.forEach((x) => out.add(x));
    else if (lower === 'admin' || lower === 'users:add') out.add('admin');
    else if (lower === 'predict' || lower.startsWith('outputs:')) out.add('predict');
    else if (/^[a-z_]+:(get|list)$/.test(lower)) out.add('read');
    else if (/^[a-z_]+:(add|patch|delete|post|\*)$/.test(lower)) out.add('write');
    else {
      throw new InvalidArgumentError(
        `unknown scope "${raw}": use predict, read, write, admin, or Clarifai's form (Predict, Models:Get, Inputs:Add, ..., All)`,
      );
    }
  }
  return SCOPES.filter((s) => out.has(s));
}

/**
 * The scope each RPC needs (null: any key; a list: any of them). The table is the one place a
 * route's scope is said; every transport goes through it.
 */
export const RPC_SCOPES: Readonly<Record<string, Scope | readonly Scope[] | null>> = {
  GetUser: null, // "who am I" (clarifai login checks a key with it)
  PostUsers: 'admin',
  GetApp: 'read',
  ListApps: 'read',
  PostApps: 'write',
  PatchApps: 'write',
  DeleteApp: 'write',
  // a predict key may read the model it predicts with (its input type, params), as on Clarifai,
  // where Predict depends on Models:Get; listing models still needs read
  GetModel: ['read', 'predict'],
  GetModelOutputInfo: ['read', 'predict'],
  ListModels: 'read',
  GetModelVersion: 'read',
  ListModelVersions: 'read',
  PostModels: 'write',
  PatchModels: 'write',
  DeleteModel: 'write',
  PostModelOutputs: 'predict',
  GenerateModelOutputs: 'predict',
  StreamModelOutputs: 'predict',
  PostInputs: 'write',
  PatchInputs: 'write',
  ListInputs: 'read',
  GetInput: 'read',
  DeleteInput: 'write',
  DeleteInputs: 'write',
  GetKey: 'read',
  ListKeys: 'read',
  PostKeys: 'write',
  PatchKeys: 'write',
  DeleteKey: 'write',
  // compute (Clarifai's ComputeClusters_*, Nodepools_*, Deployments_*, Runners_* scopes)
  GetComputeCluster: 'read',
  ListComputeClusters: 'read',
  PostComputeClusters: 'write',
  PatchComputeClusters: 'write',
  DeleteComputeClusters: 'write',
  GetNodepool: 'read',
  ListNodepools: 'read',
  PostNodepools: 'write',
  PatchNodepools: 'write',
  DeleteNodepools: 'write',
  GetDeployment: 'read',
  ListDeployments: 'read',
  PostDeployments: 'write',
  PatchDeployments: 'write',
  DeleteDeployments: 'write',
  GetRunner: 'read',
  ListRunners: 'read',
  PostRunners: 'write',
  PatchRunners: 'write',
  DeleteRunners: 'write',
};
