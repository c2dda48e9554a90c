// The contract suite's way to open this adapter: MONGODB_URI (a replica set; transactions need one), and a
// fresh database per store so runs never see each other's data.
import type { TaskStoreFactory } from '@gpu-jobs/task-store/testing';
import { MongoTaskStore } from './mongo-task-store';

const open: TaskStoreFactory = async ({ dataDir }) => {
  const uri = process.env['MONGODB_URI'];
  if (!uri) throw new Error('MONGODB_URI is not set');
  // one database per contract test's data directory: processes sharing a directory share the database
  const database = `gpu_jobs_contract_${dataDir.replace(/[^A-Za-z0-9]/g, '').slice(-24)}`;
  return MongoTaskStore.open({ uri, database });
};
export default open;
