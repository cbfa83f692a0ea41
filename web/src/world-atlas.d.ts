// world-atlas ships TopoJSON files without types; esbuild bundles the
// JSON as an object (Natural Earth 1:110m countries and land, public domain).
declare module "world-atlas/countries-110m.json" {
  import type { GeometryCollection, Topology } from "topojson-specification";
  const world: Topology<{ countries: GeometryCollection; land: GeometryCollection }>;
  export default world;
}
