import { forEachAdapter } from "./test-support/databases.js";
import { storeContract } from "./test-support/contract.js";

forEachAdapter((adapter) => storeContract(adapter.store, adapter.reopen));
