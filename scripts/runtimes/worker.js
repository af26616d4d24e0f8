// The smoke test as a worker (workerd): POST the sandbox's details as JSON.
import { smoke } from "./smoke.js";

export default {
  async fetch(request) {
    try {
      return new Response(`ok: ${await smoke(await request.json())}`);
    } catch (error) {
      return new Response(`failed on workerd: ${error?.stack ?? error}`, { status: 500 });
    }
  },
};
