/** The checked-in file the generator writes. */
export const ROUTES_FILE: string;
/** The text that file must have: src/internal/routes.ts generated from the route table, prettier-formatted. */
export function routesSource(): Promise<string>;
